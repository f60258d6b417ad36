"""Serving predictions: :class:`Classifier` keeps a loaded model; :func:`classify` is the front door.

Inputs are preprocessed as in training, cut into overlapping windows of at most
``max_seq_length`` tokens (so a long paragraph is read whole, never truncated), sorted by
length and batched under a token budget so that little padding is computed, run under
``torch.inference_mode``, and put back in input order. A paragraph's topic score is the
maximum over its windows (a topic reported anywhere in it counts); its stance scores are the
token-weighted mean of its windows' stance probabilities.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from .labels import NEUTRAL, STANCES, TOPICS
from .modeling import NewsClfModel
from .preprocessing import PreprocessingSpec, preprocessor
from .runtime import ONNX_FILES, OnnxRunner, TorchRunner, choose_precision


@dataclass
class Prediction:
    """Labels and scores for one paragraph. ``no_content`` marks an empty text (see ``on_empty``)."""

    topics: list[str]
    topic_scores: dict[str, float]
    stance: str
    stance_scores: dict[str, float]
    no_content: bool = field(default=False)

    def to_dict(self) -> dict:
        return {"topics": list(self.topics), "topic_scores": dict(self.topic_scores), "stance": self.stance,
                "stance_scores": dict(self.stance_scores), "no_content": self.no_content}


def no_content_prediction() -> Prediction:
    """What an empty text gets with ``on_empty="none"``: no topic, neutral (LABELS.md's rule for none)."""
    return Prediction([], {t: 0.0 for t in TOPICS}, NEUTRAL, {s: float(s == NEUTRAL) for s in STANCES}, True)


def validate_texts(texts: Sequence, on_empty: str = "raise") -> list[int]:
    """Indices of the texts to run; raise TypeError/ValueError naming the first bad item's index."""
    if on_empty not in ("raise", "none"):
        raise ValueError(f"on_empty must be 'raise' or 'none', got {on_empty!r}")
    keep = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text at index {i} must be str, got {type(text).__name__}")
        if text.strip():
            keep.append(i)
        elif on_empty == "raise":
            raise ValueError(f"text at index {i} is empty or whitespace only "
                             "(pass on_empty='none' to get a no-content result instead)")
    return keep


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_batch: int) -> list[list[int]]:
    """Group indices, longest first, so that each batch's padded size stays within ``max_tokens``."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, current, width = [], [], 0
    for i in order:
        new_width = max(width, lengths[i])
        if current and (new_width * (len(current) + 1) > max_tokens or len(current) >= max_batch):
            batches.append(current)
            current, new_width = [], lengths[i]
        current.append(i)
        width = new_width
    if current:
        batches.append(current)
    return batches


class Classifier:
    """A loaded model with its tokenizer, preprocessing and runtime, for repeated calls.

    ``precision`` picks how batches run (see :mod:`newsclf.runtime`): ``"auto"`` (default)
    chooses the fastest path that keeps accuracy on this hardware, or force ``"fp32"``,
    ``"bf16"``, ``"fp16"``, ``"onnx"`` or ``"onnx-int8"``.
    """

    def __init__(self, config, tokenizer, runner):
        self.config, self.tokenizer, self.runner = config, tokenizer, runner
        self.preprocess = preprocessor(PreprocessingSpec(**config.preprocessing))
        self.thresholds = np.asarray(config.topic_thresholds, dtype=np.float32)

    @classmethod
    def from_model(cls, model: NewsClfModel, tokenizer, device=None, precision: str = "auto",
                   model_dir: Path | None = None) -> Classifier:
        """Wrap an in-memory model; ``model_dir`` is where ONNX exports are looked for."""
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        chosen = choose_precision(precision, device, model_dir)
        if chosen.startswith("onnx"):
            embeddings = model.get_input_embeddings().weight.detach().float().numpy()
            runner = OnnxRunner(model_dir / ONNX_FILES[chosen], embeddings, tokenizer.pad_token_id, chosen)
        else:
            runner = TorchRunner(model, device, chosen, tokenizer.pad_token_id)
        return cls(model.config, tokenizer, runner)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, device=None, precision: str = "auto",
                        **kwargs) -> Classifier:
        """Load a saved newsclf model (local folder or hub id); ``None`` loads the bundled default."""
        if name_or_path is None:
            from .default_model import load_default

            return load_default(device=device, precision=precision)
        model = NewsClfModel.from_pretrained(str(name_or_path), **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(str(name_or_path))
        local = Path(name_or_path)
        return cls.from_model(model, tokenizer, device, precision, local if local.is_dir() else None)

    @property
    def precision(self) -> str:
        """The runtime path in use (``"auto"`` resolved)."""
        return self.runner.precision

    @property
    def model(self) -> NewsClfModel | None:
        """The PyTorch model (None on the ONNX paths)."""
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
        items = [texts] if single else _as_list(texts)
        topic_probs, stance_probs, keep = self._probabilities(items, batch_size, on_empty, progress)
        results = [no_content_prediction() for _ in items]
        for row, i in enumerate(keep):
            results[i] = self._prediction(topic_probs[row], stance_probs[row])
        return results[0] if single else results

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32,
                      progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Topic probabilities (N x 4) and stance probabilities (N x 3), in input order."""
        topic_probs, stance_probs, _ = self._probabilities(_as_list(texts), batch_size, "raise", progress)
        return topic_probs, stance_probs

    def _prediction(self, topic_p: np.ndarray, stance_p: np.ndarray) -> Prediction:
        return Prediction(
            topics=[t for t, p, th in zip(TOPICS, topic_p, self.thresholds) if p >= th],
            topic_scores={t: float(p) for t, p in zip(TOPICS, topic_p)},
            stance=STANCES[int(stance_p.argmax())],
            stance_scores={s: float(p) for s, p in zip(STANCES, stance_p)},
        )

    def _probabilities(self, items: list, batch_size: int, on_empty: str, progress: bool):
        keep = validate_texts(items, on_empty)
        windows, owner = self.windows([self.preprocess(items[i]) for i in keep])
        lengths = [len(w) for w in windows]
        batches = token_budget_batches(lengths, max_tokens=batch_size * self.config.max_seq_length,
                                       max_batch=batch_size)
        win_topic = np.zeros((len(windows), len(TOPICS)), np.float32)
        win_stance = np.zeros((len(windows), len(STANCES)), np.float32)
        loader = prefetch((b, self.runner.prepare([windows[i] for i in b])) for b in batches)
        for batch, inputs in tqdm(loader, total=len(batches), desc="classify", unit="batch", disable=not progress):
            win_topic[batch], win_stance[batch] = self._run(inputs, [windows[i] for i in batch])
        return (*aggregate_windows(win_topic, win_stance, owner, lengths, len(keep)), keep)

    def _run(self, inputs, windows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """One batch; on CUDA out-of-memory, run it again as two halves (recursively)."""
        try:
            return self.runner(inputs)
        except torch.cuda.OutOfMemoryError:
            if len(windows) == 1:
                raise
            torch.cuda.empty_cache()
            half = len(windows) // 2
            parts = [self._run(self.runner.prepare(w), w) for w in (windows[:half], windows[half:])]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def windows(self, texts: list[str], chunk: int = 1024) -> tuple[list[np.ndarray], np.ndarray]:
        """Token windows covering every text whole, and for each window the index of its text.

        Texts are tokenised ``chunk`` at a time and only the ids are kept (as int32 arrays), so
        memory stays small however many texts are passed."""
        windows, owners = [], []
        for start in range(0, len(texts), chunk):
            enc = self.tokenizer(texts[start:start + chunk], truncation=True, max_length=self.config.max_seq_length,
                                 stride=self.config.window_stride, return_overflowing_tokens=True,
                                 return_attention_mask=False, return_token_type_ids=False)
            windows += [np.asarray(ids, dtype=np.int32) for ids in enc["input_ids"]]
            owners += [start + i for i in enc["overflow_to_sample_mapping"]]
        return windows, np.asarray(owners, dtype=np.int64)


def prefetch(items: Iterable, depth: int = 4) -> Iterator:
    """Yield from ``items`` while a background thread prepares the next ``depth`` of them
    (so tokenisation, padding and pinning overlap the forward pass)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def work():
        try:
            for item in items:
                q.put(item)
        except BaseException as e:  # re-raised in the consumer
            q.put(_Failure(e))
        q.put(done)

    threading.Thread(target=work, daemon=True).start()
    while (item := q.get()) is not done:
        if isinstance(item, _Failure):
            raise item.error
        yield item


@dataclass
class _Failure:
    error: BaseException


def aggregate_windows(win_topic, win_stance, owner, lengths, n_texts):
    """Per-text probabilities: max of topic probabilities, length-weighted mean of stance ones."""
    topic = np.zeros((n_texts, win_topic.shape[1]), np.float32)
    np.maximum.at(topic, owner, win_topic)
    weights = np.asarray(lengths, np.float32)[:, None]
    stance = np.zeros((n_texts, win_stance.shape[1]), np.float32)
    np.add.at(stance, owner, win_stance * weights)
    totals = np.zeros((n_texts, 1), np.float32)
    np.add.at(totals, owner, weights)
    return topic, stance / np.maximum(totals, 1e-9)


def _as_list(texts) -> list:
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
        raise TypeError(f"texts must be a str or a list of str, got {type(texts).__name__}")
    return list(texts)


@lru_cache(maxsize=4)
def _cached_classifier(model: str | None, device: str | None, precision: str) -> Classifier:
    return Classifier.from_pretrained(model, device=device, precision=precision)


def classify(texts: str | Sequence[str], model: str | Path | Classifier | None = None, batch_size: int = 32,
             device: str | None = None, on_empty: str = "raise", precision: str = "auto",
             progress: bool = False) -> Prediction | list[Prediction]:
    """Classify one paragraph or a list of paragraphs.

    ``model`` is a saved model folder, a hub id, a loaded :class:`Classifier`, or ``None`` for
    the bundled default model; loaded models are cached between calls. ``on_empty="none"``
    turns an empty text into a no-content result instead of a ValueError. ``precision``
    forces a runtime path (see :class:`Classifier`).
    """
    clf = model if isinstance(model, Classifier) else _cached_classifier(
        None if model is None else str(model), None if device is None else str(device), precision)
    return clf(texts, batch_size=batch_size, on_empty=on_empty, progress=progress)
