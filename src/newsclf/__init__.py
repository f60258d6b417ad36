"""newsclf: topic and stance labels for Arabic news paragraphs about the Syrian war.

    >>> from newsclf import classify
    >>> classify("أعلنت الأمم المتحدة وصول قافلة مساعدات إلى الغوطة الشرقية.")

Names are imported on first use, so ``import newsclf`` stays light (torch and transformers load
only when a model is needed).
"""
from importlib import import_module, metadata

from .labels import STANCES, TOPICS

try:
    __version__ = metadata.version("newsclf")
except metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

_LAZY = {
    "classify": "inference", "Classifier": "inference", "Prediction": "inference",
    "split_paragraphs": "preprocessing", "normalize_arabic": "preprocessing",
    "NewsClfModel": "modeling", "NewsClfConfig": "modeling",
    "read_records": "data", "Record": "data", "DataError": "data",
    "load_config": "config", "ConfigError": "config",
}

__all__ = ["classify", "Classifier", "Prediction", "TOPICS", "STANCES", "split_paragraphs", "normalize_arabic",
           "NewsClfModel", "NewsClfConfig", "read_records", "Record", "DataError", "load_config", "ConfigError",
           "train", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'newsclf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def train(config_path, resume: bool = False, overrides=()):
    """Train from a YAML config (see ``configs/``); ``overrides`` are ``section.key=value`` strings.
    Returns the saved model folder."""
    from .config import load_config
    from .trainer import train as _train

    return _train(load_config(config_path, overrides), resume=resume)
