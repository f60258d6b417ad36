"""The front door: :class:`Classifier` keeps a loaded model; :func:`classify` labels paragraphs with it.

How texts become windows and batches is :mod:`newsclf.batching`; where a model comes from is
:mod:`newsclf.loading`; how batches run (backend, precision, device) is :mod:`newsclf.runtime`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import loading
from .batching import max_over_windows, mean_over_windows, token_windows
from .labels import NEUTRAL, STANCES, TOPICS
from .preprocessing import PreprocessingSpec, preprocessor
from .runtime import load_runner, run_windows
from .validation import as_text_list, check_batch_size, texts_to_run


@dataclass
class Prediction:
    """Labels and scores for one paragraph. ``no_content`` marks an empty text (see ``on_empty``)."""

    topics: list[str]
    topic_scores: dict[str, float]
    stance: str
    stance_scores: dict[str, float]
    no_content: bool = field(default=False)

    def to_dict(self) -> dict:
        return asdict(self)


def no_content_prediction() -> Prediction:
    """What an empty text gets with ``on_empty="none"``: no topic, neutral (LABELS.md's rule for none)."""
    return Prediction([], {t: 0.0 for t in TOPICS}, NEUTRAL, {s: float(s == NEUTRAL) for s in STANCES}, True)


class Classifier:
    """A loaded model with its tokenizer, preprocessing and runner, for repeated calls.

    ``backend`` (``"torch"``, ``"onnx"``) and ``precision`` (``"fp32"``, ``"bf16"``, ``"fp16"``,
    ``"int8"``) pick how batches run; ``"auto"`` (default) chooses for this hardware (see
    :func:`newsclf.runtime.choose_runtime`).
    """

    def __init__(self, source: loading.ModelSource, device=None, backend: str = "auto", precision: str = "auto"):
        self.config, self.tokenizer = source.config, source.tokenizer
        self.runner = load_runner(source, device, backend, precision)
        self.preprocess = preprocessor(PreprocessingSpec(**self.config.preprocessing))
        self.thresholds = np.asarray(self.config.topic_thresholds, dtype=np.float32)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, device=None, backend: str = "auto",
                        precision: str = "auto") -> Classifier:
        """A saved model folder, a hub id, or ``None`` for the bundled default model."""
        return cls(loading.resolve(name_or_path), device, backend, precision)

    @classmethod
    def from_model(cls, model, tokenizer, device=None, backend: str = "auto", precision: str = "auto",
                   model_dir: str | Path | None = None) -> Classifier:
        """Wrap an in-memory model; ``model_dir`` is where its ONNX exports are looked for."""
        return cls(loading.from_model(model, tokenizer, model_dir), device, backend, precision)

    @property
    def backend(self) -> str:
        return self.runner.backend

    @property
    def precision(self) -> str:
        return self.runner.precision

    @property
    def model(self):
        """The PyTorch model (None on the ONNX backend)."""
        return getattr(self.runner, "model", None)

    def save_pretrained(self, path: str | Path) -> None:
        if self.model is None:
            raise ValueError("an ONNX-backed classifier has no PyTorch weights to save")
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)

    def __call__(self, texts: str | Sequence[str], batch_size: int = 32, on_empty: str = "raise",
                 progress: bool = False) -> Prediction | list[Prediction]:
        """Classify a paragraph (returns one Prediction) or a list of them (a list, in input order)."""
        single = isinstance(texts, str)
        items = [texts] if single else as_text_list(texts)
        topic, stance, _, keep = self._forward(items, batch_size, on_empty, progress)
        results = [no_content_prediction() for _ in items]
        for row, i in enumerate(keep):
            results[i] = Prediction([t for t, p, th in zip(TOPICS, topic[row], self.thresholds) if p >= th],
                                    {t: float(p) for t, p in zip(TOPICS, topic[row])},
                                    STANCES[int(stance[row].argmax())], {s: float(p) for s, p in zip(STANCES, stance[row])})
        return results[0] if single else results

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32,
                      progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Topic probabilities (N x 4) and stance probabilities (N x 3), in input order."""
        return self.encode(texts, batch_size, progress, pooled=False)[:2]

    def embed(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Mean-pooled encoder outputs (N x hidden), in input order: the vectors the heads read."""
        return self.encode(texts, batch_size, progress)[2]

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False,
               pooled: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Topic probabilities, stance probabilities and (``pooled``) embeddings, in one pass."""
        topic, stance, vectors, _ = self._forward(as_text_list(texts), batch_size, "raise", progress)
        if pooled and vectors is None:
            raise ValueError("this model's ONNX export has no 'pooled' output; re-export it with "
                             "`newsclf export MODEL --onnx`, or use backend='torch'")
        return topic, stance, vectors

    def _forward(self, items: list, batch_size: int, on_empty: str, progress: bool):
        """Per-text topic and stance probabilities and pooled vectors, and the indices of the texts run."""
        check_batch_size(batch_size)
        keep = texts_to_run(items, on_empty)
        if not keep:
            return np.zeros((0, len(TOPICS)), np.float32), np.zeros((0, len(STANCES)), np.float32), None, keep
        windows, owner = token_windows(self.tokenizer, [self.preprocess(items[i]) for i in keep],
                                       self.config.max_seq_length, self.config.window_stride)
        lengths = [len(w) for w in windows]
        topic, stance, vectors = run_windows(self.runner, windows, batch_size, self.config.max_seq_length, progress)
        mean = lambda v: None if v is None else mean_over_windows(v, owner, lengths, len(keep))  # noqa: E731
        return max_over_windows(topic, owner, len(keep)), mean(stance), mean(vectors), keep


@lru_cache(maxsize=4)
def _cached_classifier(model: str | None, device: str | None, backend: str, precision: str) -> Classifier:
    return Classifier.from_pretrained(model, device=device, backend=backend, precision=precision)


def classify(texts: str | Sequence[str], model: str | Path | Classifier | None = None, batch_size: int = 32,
             device: str | None = None, on_empty: str = "raise", backend: str = "auto", precision: str = "auto",
             progress: bool = False) -> Prediction | list[Prediction]:
    """Classify one paragraph or a list of paragraphs.

    ``model`` is a saved model folder, a hub id, a loaded :class:`Classifier`, or ``None`` for
    the bundled default model; loaded models are cached between calls. ``on_empty="none"``
    turns an empty text into a no-content result instead of a ValueError.
    """
    check_batch_size(batch_size)
    clf = model if isinstance(model, Classifier) else _cached_classifier(
        None if model is None else str(model), None if device is None else str(device), backend, precision)
    return clf(texts, batch_size=batch_size, on_empty=on_empty, progress=progress)
