"""Serving predictions: :class:`Classifier` keeps a loaded model; :func:`classify` is the front door.

Inputs are preprocessed as in training, cut into overlapping windows of at most
``max_seq_length`` tokens (so a long paragraph is read whole, never truncated), sorted by
length and batched under a token budget so that little padding is computed, run under
``torch.inference_mode``, and put back in input order. A paragraph's topic score is the
maximum over its windows (a topic reported anywhere in it counts); its stance scores are the
token-weighted mean of its windows' stance probabilities.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from .labels import NEUTRAL, STANCES, TOPICS
from .modeling import NewsClfModel
from .preprocessing import PreprocessingSpec, preprocessor


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
    """A loaded model with its tokenizer and preprocessing, for repeated calls."""

    def __init__(self, model: NewsClfModel, tokenizer, device: str | torch.device | None = None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.config = model.config
        self.preprocess = preprocessor(PreprocessingSpec(**self.config.preprocessing))
        self.thresholds = np.asarray(self.config.topic_thresholds, dtype=np.float32)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, device=None, **kwargs) -> Classifier:
        """Load a saved newsclf model (local folder or hub id); ``None`` loads the bundled default."""
        if name_or_path is None:
            from .default_model import load_default

            return load_default(device=device)
        model = NewsClfModel.from_pretrained(str(name_or_path), **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(str(name_or_path))
        return cls(model, tokenizer, device=device)

    def save_pretrained(self, path: str | Path) -> None:
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
        texts = [self.preprocess(items[i]) for i in keep]
        windows, owner = self.windows(texts)
        lengths = [len(w) for w in windows]
        batches = token_budget_batches(lengths, max_tokens=batch_size * self.config.max_seq_length,
                                       max_batch=batch_size)
        win_topic = np.zeros((len(windows), len(TOPICS)), np.float32)
        win_stance = np.zeros((len(windows), len(STANCES)), np.float32)
        with torch.inference_mode(), self._autocast():
            for batch in tqdm(batches, desc="classify", unit="batch", disable=not progress):
                topic, stance = self.forward([windows[i] for i in batch])
                win_topic[batch], win_stance[batch] = topic, stance
        return (*aggregate_windows(win_topic, win_stance, owner, lengths, len(texts)), keep)

    def windows(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token windows covering every text whole, and for each window the index of its text."""
        if not texts:
            return [], np.zeros(0, dtype=np.int64)
        enc = self.tokenizer(texts, truncation=True, max_length=self.config.max_seq_length,
                             stride=self.config.window_stride, return_overflowing_tokens=True,
                             return_attention_mask=False, return_token_type_ids=False)
        return enc["input_ids"], np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)

    def forward(self, windows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Sigmoid topic and softmax stance probabilities of one batch of token windows."""
        batch = self.tokenizer.pad({"input_ids": windows}, return_tensors="pt")
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return (torch.sigmoid(out.topic_logits.float()).cpu().numpy(),
                torch.softmax(out.stance_logits.float(), -1).cpu().numpy())

    def _autocast(self):
        if self.device.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.autocast("cuda", dtype=dtype)
        return nullcontext()


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
def _cached_classifier(model: str | None, device: str | None) -> Classifier:
    return Classifier.from_pretrained(model, device=device)


def classify(texts: str | Sequence[str], model: str | Path | Classifier | None = None, batch_size: int = 32,
             device: str | None = None, on_empty: str = "raise",
             progress: bool = False) -> Prediction | list[Prediction]:
    """Classify one paragraph or a list of paragraphs.

    ``model`` is a saved model folder, a hub id, a loaded :class:`Classifier`, or ``None`` for
    the bundled default model; loaded models are cached between calls. ``on_empty="none"``
    turns an empty text into a no-content result instead of a ValueError.
    """
    clf = model if isinstance(model, Classifier) else _cached_classifier(
        None if model is None else str(model), None if device is None else str(device))
    return clf(texts, batch_size=batch_size, on_empty=on_empty, progress=progress)
