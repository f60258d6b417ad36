"""The front door: :class:`Classifier` keeps a loaded model; :func:`classify` labels paragraphs with it.

How texts become windows and batches is :mod:`newsclf.batching`; where a model comes from is
:mod:`newsclf.loading`; how batches run (backend, precision, device) is :mod:`newsclf.runtime`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import bundled, loading
from .labels import NEUTRAL, STANCES, TOPICS
from .preprocessing import PreprocessingSpec, preprocessor
from .runtime import load_runner, run_texts
from .validation import as_text_list, check_batch_size, texts_to_run


@dataclass
class Prediction:
    """Labels and scores for one paragraph. ``no_content`` marks an empty text (see ``on_empty``)."""

    topics: list[str]
    topic_scores: dict[str, float]
    stance: str
    stance_scores: dict[str, float]
    no_content: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def empty(cls) -> Prediction:
        """What an empty text gets with ``on_empty="none"``: no topic, neutral (LABELS.md's rule for none)."""
        return cls([], dict.fromkeys(TOPICS, 0.0), NEUTRAL, {s: float(s == NEUTRAL) for s in STANCES}, True)


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
        source = bundled.load_bundled() if name_or_path is None else loading.resolve(name_or_path)
        return cls(source, device, backend, precision)

    @classmethod
    def from_model(cls, model, tokenizer, device=None, backend: str = "auto", precision: str = "auto",
                   model_dir: str | Path | None = None) -> Classifier:
        """Wrap an in-memory model; ``model_dir`` is where its ONNX exports are looked for."""
        return cls(loading.from_model(model, tokenizer, model_dir), device, backend, precision)

    backend = property(lambda self: self.runner.backend, doc="the backend in use (auto resolved)")
    precision = property(lambda self: self.runner.precision, doc="the precision in use (auto resolved)")
    model = property(lambda self: getattr(self.runner, "model", None), doc="the PyTorch model (None on onnx)")

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
        results = [Prediction.empty() for _ in items]
        for row, i in enumerate(keep):
            results[i] = Prediction([t for t, p, th in zip(TOPICS, topic[row], self.thresholds) if p >= th],
                                    dict(zip(TOPICS, topic[row].tolist())), STANCES[int(stance[row].argmax())],
                                    dict(zip(STANCES, stance[row].tolist())))
        return results[0] if single else results

    def classify_articles(self, articles: Sequence, batch_size: int = 32, on_empty: str = "raise",
                          progress: bool = False) -> list:
        """Cut whole articles (texts, or mappings with ``text``, optional ``id`` and metadata) into
        paragraphs and label each: a list of :class:`newsclf.articles.ArticleParagraph`, article by article."""
        from .articles import ArticleParagraph, article_rows, paragraph_rows

        articles = article_rows(as_text_list(articles))
        texts_to_run([a.text for a in articles], on_empty)  # errors name the article's index
        rows = [p for a in articles for p in paragraph_rows(a)]
        predictions = self([r.text for r in rows], batch_size=batch_size, on_empty=on_empty, progress=progress)
        return [ArticleParagraph(r.meta["article_id"], r.meta["paragraph_index"], r.text, p,
                                 {k: v for k, v in r.meta.items() if k not in ("article_id", "paragraph_index")})
                for r, p in zip(rows, predictions)]

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32,
                      progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Topic probabilities (N x 4) and stance probabilities (N x 3), in input order."""
        return self.encode(texts, batch_size, progress, pooled=False)[:2]

    def embed(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Mean-pooled encoder outputs (N x hidden), in input order: the vectors the heads read."""
        return self.encode(texts, batch_size, progress)[2]

    def explain(self, texts: str | Sequence[str], target: str | None = None, **kwargs):
        """Per-word integrated-gradients attributions of ``target`` (default: the predicted stance) for one
        paragraph (an Explanation) or a list; see :func:`newsclf.explain.explain` (needs backend='torch')."""
        from .explain import explain

        return explain(self, texts, target, **kwargs)

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False, pooled: bool = True):
        """Topic probabilities, stance probabilities and (``pooled``) embeddings, in one pass."""
        topic, stance, vectors, _ = self._forward(as_text_list(texts), batch_size, "raise", progress)
        if pooled and vectors is None:
            raise ValueError("this ONNX export has no 'pooled' output: re-export it, or use backend='torch'")
        return topic, stance, vectors

    def _forward(self, items: list, batch_size: int, on_empty: str, progress: bool):
        """Per-text topic and stance probabilities and pooled vectors, and the indices of the texts run."""
        check_batch_size(batch_size)
        keep = texts_to_run(items, on_empty)
        texts = [self.preprocess(items[i]) for i in keep]
        return (*run_texts(self.runner, self.tokenizer, texts, self.config, batch_size, progress), keep)


@lru_cache(maxsize=4)
def _cached_classifier(model: str | None, device: str | None, backend: str, precision: str) -> Classifier:
    return Classifier.from_pretrained(model, device=device, backend=backend, precision=precision)


def classify(texts: str | Sequence[str], model: str | Path | Classifier | None = None, batch_size: int = 32,
             device: str | None = None, on_empty: str = "raise", backend: str = "auto", precision: str = "auto",
             progress: bool = False) -> Prediction | list[Prediction]:
    """Classify one paragraph or a list of paragraphs with ``model``: a saved model folder, a hub id, a
    loaded :class:`Classifier`, or ``None`` for the bundled default (loaded models are cached).
    ``on_empty="none"`` turns an empty text into a no-content result instead of a ValueError."""
    check_batch_size(batch_size)
    clf = model if isinstance(model, Classifier) else _cached_classifier(
        None if model is None else str(model), None if device is None else str(device), backend, precision)
    return clf(texts, batch_size=batch_size, on_empty=on_empty, progress=progress)
