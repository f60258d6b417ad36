"""Where a model comes from: a saved folder, a Hugging Face hub id, or memory (the bundled default
is :mod:`newsclf.bundled`).

Each is turned into a :class:`ModelSource`: the config and tokenizer, the folder (where ONNX
exports are looked for), and two loaders, one for the PyTorch model and one for the word-embedding
matrix alone (all the ONNX backend needs). A name that looks like a path (absolute, ``./``,
``../``, ``~``, or more than one ``/``) and does not exist is a FileNotFoundError naming it;
a hub id is looked up in the local cache first, and offline (``HF_HUB_OFFLINE=1``) or without
a network a missing id fails within seconds with a message that says so.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORD_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"


@dataclass
class ModelSource:
    """What :class:`~newsclf.Classifier` needs to run a model, with the heavy parts loaded on demand."""

    config: object  # NewsClfConfig
    tokenizer: object
    folder: Path | None
    build_model: Callable[[], object]  # -> NewsClfModel
    word_embeddings: Callable[[], np.ndarray]


def from_model(model, tokenizer, folder: str | Path | None = None) -> ModelSource:
    """A model already in memory (``folder``: where its ONNX exports are, if any)."""
    return ModelSource(model.config, tokenizer, None if folder is None else Path(folder), lambda: model,
                       lambda: model.get_input_embeddings().weight.detach().float().cpu().numpy())


def from_folder(folder: str | Path) -> ModelSource:
    """A model saved with ``save_pretrained`` (config.json, safetensors weights, tokenizer files)."""
    from transformers import AutoTokenizer

    from .modeling import NewsClfConfig, NewsClfModel

    folder = Path(folder).expanduser()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} is not a saved newsclf model: it has no config.json")
    return ModelSource(NewsClfConfig.from_pretrained(folder), AutoTokenizer.from_pretrained(folder), folder,
                       lambda: NewsClfModel.from_pretrained(folder), lambda: _read_tensor(folder, WORD_EMBEDDINGS))


def resolve(name_or_path: str | Path) -> ModelSource:
    """A local folder, or a hub id (downloaded once, then cached)."""
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(f"model must be a folder, a hub id or None, got {type(name_or_path).__name__}")
    path = Path(name_or_path).expanduser()
    if path.exists():
        return from_folder(path)
    if looks_local(str(name_or_path)):
        raise FileNotFoundError(f"model folder not found: {name_or_path}")
    return from_folder(_download(str(name_or_path)))


def looks_local(name: str) -> bool:
    """True for names that can only be paths, never a hub id (``org/name`` or ``name``)."""
    return name.startswith(("/", "./", "../", "~", ".\\")) or "\\" in name or name.count("/") > 1


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except HFValidationError as e:
        raise FileNotFoundError(f"model {repo_id!r} is neither a folder here nor a valid hub id ({e})") from None
    except Exception:  # not in the cache: ask the hub, unless offline
        pass
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise OSError(f"model {repo_id!r} is not a folder here and not in the local hub cache, and the hub is "
                      "off (HF_HUB_OFFLINE is set): pass a local model folder, or download it while online")
    try:
        return Path(snapshot_download(repo_id, etag_timeout=5))
    except Exception as e:
        raise OSError(f"model {repo_id!r} is not a folder here, and it could not be fetched from the Hugging Face "
                      f"hub ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'}); check the "
                      "name, your network, or pass a local model folder") from None


def _read_tensor(folder: Path, name: str) -> np.ndarray:
    """One tensor of a saved model's safetensors weights (sharded or not), without loading the rest."""
    import json

    from safetensors import safe_open

    index = folder / "model.safetensors.index.json"
    file = folder / (json.loads(index.read_text())["weight_map"][name] if index.is_file() else "model.safetensors")
    with safe_open(str(file), framework="pt") as f:
        return f.get_tensor(name).float().numpy()
