"""newsclf: topic and stance labels for Arabic news paragraphs about the Syrian war.

    >>> from newsclf import classify
    >>> classify("أعلنت الأمم المتحدة وصول قافلة مساعدات إلى الغوطة الشرقية.")
"""
from .data import DataError, Record, read_records
from .inference import Classifier, Prediction, classify
from .labels import STANCES, TOPICS
from .modeling import NewsClfConfig, NewsClfModel
from .preprocessing import normalize_arabic, split_paragraphs
from .training_args import ConfigError, load_config

__version__ = "0.1.0"

__all__ = ["classify", "Classifier", "Prediction", "TOPICS", "STANCES", "split_paragraphs", "normalize_arabic",
           "NewsClfModel", "NewsClfConfig", "read_records", "Record", "DataError", "load_config", "ConfigError",
           "train", "__version__"]


def train(config_path, resume: bool = False):
    """Train from a YAML config (see ``configs/``); returns the saved model folder."""
    from .trainer import train as _train

    return _train(load_config(config_path), resume=resume)
