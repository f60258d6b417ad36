"""How paragraphs become batches and batch outputs become per-paragraph results: pure functions.

A paragraph is cut into overlapping token windows of at most ``max_seq_length`` tokens, so a
long one is read whole, never truncated. Windows are sorted by length and grouped under a
token budget, one padded width per batch (little padding is computed, and a window's scores do
not depend on its batch). A paragraph's topic score is the maximum over its
windows (a topic reported anywhere counts); its stance probabilities and pooled vector are
the token-weighted mean of its windows'.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np


def token_windows(tokenizer, texts: list[str], max_seq_length: int, stride: int,
                  chunk: int = 1024) -> tuple[list[np.ndarray], np.ndarray]:
    """Token windows covering every text whole, and for each window the index of its text.

    Texts are tokenised ``chunk`` at a time and only the ids are kept (int32), so memory stays
    small however many texts are passed."""
    windows, owners = [], []
    for start in range(0, len(texts), chunk):
        enc = tokenizer(texts[start:start + chunk], truncation=True, max_length=max_seq_length, stride=stride,
                        return_overflowing_tokens=True, return_attention_mask=False, return_token_type_ids=False)
        windows += [np.asarray(ids, dtype=np.int32) for ids in enc["input_ids"]]
        owners += [start + i for i in enc["overflow_to_sample_mapping"]]
    return windows, np.asarray(owners, dtype=np.int64)


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_batch: int) -> list[list[int]]:
    """Group indices, longest first, so that each batch's padded size stays within ``max_tokens``.

    A batch holds windows of one padded width only (:func:`padded_width`), so a window runs at the
    same width whatever else is being classified: its scores are the same alone and in any batch.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, current = [], []
    for i in order:
        width = padded_width(lengths[i])
        if current and (width != padded_width(lengths[current[0]]) or width * (len(current) + 1) > max_tokens
                        or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


PAD_MULTIPLE = 16


def padded_width(length: int) -> int:
    """The width a window of ``length`` tokens runs at: its length rounded up to ``PAD_MULTIPLE``.

    Attention kernels round differently at different widths (on the CPU in bf16, a window's scores
    moved by up to 0.01 between unpadded and padded runs, and a label flipped), so a window's width
    must depend on its own length only; a few widths keep batches full.
    """
    return -(-length // PAD_MULTIPLE) * PAD_MULTIPLE


def pad_windows(windows: Sequence, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded int64 ids and attention mask, ``padded_width`` of the longest window wide."""
    width = padded_width(max(len(w) for w in windows))
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, w in enumerate(windows):
        ids[row, :len(w)] = w
        mask[row, :len(w)] = 1
    return ids, mask


def max_over_windows(values: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
    """Per-text maximum of window rows (topic probabilities)."""
    out = np.zeros((n_texts, values.shape[1]), np.float32)
    np.maximum.at(out, owner, values)
    return out


def mean_over_windows(values: np.ndarray, owner: np.ndarray, lengths: Sequence[int], n_texts: int) -> np.ndarray:
    """Per-text token-weighted mean of window rows (stance probabilities, pooled vectors)."""
    weights = np.asarray(lengths, np.float32)[:, None]
    out = np.zeros((n_texts, values.shape[1]), np.float32)
    np.add.at(out, owner, values * weights)
    totals = np.zeros((n_texts, 1), np.float32)
    np.add.at(totals, owner, weights)
    return out / np.maximum(totals, 1e-9)


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
