"""Choosing what to annotate next (active learning): ``newsclf suggest``.

The N paragraphs are a documented mix of four shares, each filled in this order:

- ``random``: a uniform sample of the candidates (at least 20 %, so that label rates in the
  selection stay estimable);
- ``rare``: the candidates most likely to hold a rare class, taken in turn for
  ``pro_government``, ``pro_opposition`` and ``displacement`` (highest model probability first);
- ``uncertain``: the candidates the model is least sure of: a topic score near its threshold
  (distance measured in log-odds) or a high stance entropy, whichever is larger;
- ``diverse``: farthest-first traversal of the embedding space (k-centre greedy), so that
  regions the other shares missed are covered.

Across all shares no pick is a near-duplicate of an earlier one (cosine similarity of centred,
normalised embeddings above ``dedup_cosine``), and no document gives more than ``max_per_doc``
paragraphs. Embeddings are centred before normalising because e5-style encoders are
anisotropic (every raw vector points roughly the same way). Ids already labelled are never
returned. The selection is a pure function of its inputs and the seed.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from dataclasses import dataclass

import numpy as np

from .labels import STANCES, TOPICS
from .metrics import logit

SHARES = ("random", "rare", "uncertain", "diverse")
DEFAULT_MIX = {"random": 0.25, "rare": 0.25, "uncertain": 0.3, "diverse": 0.2}
MIN_RANDOM_SHARE = 0.2
RARE_CLASSES = (("stance", "pro_government"), ("stance", "pro_opposition"), ("topic", "displacement"))


@dataclass(frozen=True)
class Pick:
    """One suggested paragraph: its row in the candidates, the share that chose it and that share's score."""

    index: int
    share: str
    score: float


def validate_mix(mix: dict[str, float]) -> dict[str, float]:
    """Shares named in SHARES, non-negative, summing to 1, random at least MIN_RANDOM_SHARE."""
    unknown = set(mix) - set(SHARES)
    if unknown:
        raise ValueError(f"unknown share(s) {sorted(unknown)} in mix; known shares: {list(SHARES)}")
    mix = {s: float(mix.get(s, 0.0)) for s in SHARES}
    if any(v < 0 for v in mix.values()):
        raise ValueError(f"mix shares must be >= 0, got {mix}")
    if abs(sum(mix.values()) - 1.0) > 1e-6:
        raise ValueError(f"mix shares must sum to 1, got {sum(mix.values()):.3f} ({mix})")
    if mix["random"] < MIN_RANDOM_SHARE - 1e-9:
        raise ValueError(f"the random share must be at least {MIN_RANDOM_SHARE} so that rates stay estimable, "
                         f"got {mix['random']}")
    return mix


def share_counts(n: int, mix: dict[str, float]) -> dict[str, int]:
    """Whole counts per share summing to ``n`` (largest remainders), random rounded up."""
    raw = {s: n * mix[s] for s in SHARES}
    counts = {s: int(np.floor(v)) for s, v in raw.items()}
    counts["random"] = min(n, int(np.ceil(raw["random"] - 1e-9)))
    for s in sorted(SHARES, key=lambda s: raw[s] - counts[s], reverse=True):
        if sum(counts.values()) >= n:
            break
        counts[s] += 1
    while sum(counts.values()) > n:  # the random round-up took one too many from another share
        s = max((s for s in SHARES if s != "random" and counts[s] > 0), key=lambda s: counts[s] - raw[s])
        counts[s] -= 1
    return counts


def uncertainty(topic_probs: np.ndarray, thresholds: Sequence[float], stance_probs: np.ndarray) -> np.ndarray:
    """Per row, in [0, 1]: max of topic closeness to threshold (1 at the threshold, in log-odds) and
    normalised stance entropy."""
    eps = 1e-6
    distance = np.abs(logit(topic_probs) - logit(np.asarray(thresholds, float))[None, :])
    topic_closeness = np.exp(-distance).max(1)
    p = np.clip(stance_probs, eps, 1.0)
    entropy = -(p * np.log(p)).sum(1) / np.log(stance_probs.shape[1])
    return np.maximum(topic_closeness, entropy)


def normalised(embeddings: np.ndarray) -> np.ndarray:
    """Centred, unit-length rows (centring removes the common direction of anisotropic encoders)."""
    x = embeddings - embeddings.mean(0, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


class _Selection:
    """Picks so far, with the near-duplicate and per-document rules every share obeys."""

    def __init__(self, vectors: np.ndarray, groups: Sequence, dedup_cosine: float, max_per_doc: int | None):
        self.vectors, self.groups = vectors, groups
        self.dedup_cosine, self.max_per_doc = dedup_cosine, max_per_doc
        self.picks: list[Pick] = []
        self.taken = np.zeros(len(vectors), bool)
        self.per_group: dict = {}
        self._chosen = np.zeros_like(vectors)  # rows 0..len(picks)-1 hold the picked vectors

    @property
    def chosen(self) -> np.ndarray:
        return self._chosen[:len(self.picks)]

    def allowed(self, i: int) -> bool:
        if self.taken[i]:
            return False
        if self.max_per_doc is not None and self.per_group.get(self.groups[i], 0) >= self.max_per_doc:
            return False
        return not len(self.chosen) or float((self.chosen @ self.vectors[i]).max()) <= self.dedup_cosine

    def add(self, i: int, share: str, score: float) -> None:
        self._chosen[len(self.picks)] = self.vectors[i]
        self.picks.append(Pick(int(i), share, float(score)))
        self.taken[i] = True
        self.per_group[self.groups[i]] = self.per_group.get(self.groups[i], 0) + 1

    def take_ranked(self, order: Sequence[int], scores: np.ndarray, share: str, count: int) -> None:
        """Add up to ``count`` allowed rows in the order given."""
        added = 0
        for i in order:
            if added >= count:
                break
            if self.allowed(i):
                self.add(i, share, scores[i])
                added += 1


def select(topic_probs: np.ndarray, stance_probs: np.ndarray, embeddings: np.ndarray, thresholds: Sequence[float],
           n: int, *, groups: Sequence | None = None, mix: dict[str, float] | None = None, seed: int = 0,
           dedup_cosine: float = 0.95, max_per_doc: int | None = 3) -> list[Pick]:
    """Choose ``n`` rows of the candidates (see the module docstring); fewer only if the rules run out."""
    counts = share_counts(n, validate_mix(mix or DEFAULT_MIX))
    total = len(topic_probs)
    if not (len(stance_probs) == len(embeddings) == total):
        raise ValueError("topic_probs, stance_probs and embeddings must have one row per candidate")
    groups = list(range(total)) if groups is None else list(groups)
    rng = np.random.default_rng(seed)
    sel = _Selection(normalised(np.asarray(embeddings, np.float32)), groups, dedup_cosine, max_per_doc)

    sel.take_ranked(rng.permutation(total), np.zeros(total), "random", counts["random"])

    rare_scores = [stance_probs[:, STANCES.index(name)] if head == "stance" else topic_probs[:, TOPICS.index(name)]
                   for head, name in RARE_CLASSES]
    rankings = [iter(np.argsort(-s, kind="stable")) for s in rare_scores]
    target = len(sel.picks) + counts["rare"]
    while len(sel.picks) < target and rankings:
        for k, ranking in list(enumerate(rankings)):
            if len(sel.picks) >= target:
                break
            for i in ranking:
                if sel.allowed(i):
                    sel.add(i, "rare", rare_scores[k][i])
                    break
            else:
                rankings.remove(ranking)

    unsure = uncertainty(topic_probs, thresholds, stance_probs)
    sel.take_ranked(np.argsort(-unsure, kind="stable"), unsure, "uncertain", counts["uncertain"])

    _farthest_first(sel, counts["diverse"], rng)
    return sel.picks


def _farthest_first(sel: _Selection, count: int, rng: np.random.Generator) -> None:
    """k-centre greedy: repeatedly add the allowed row farthest (in cosine) from everything picked."""
    vectors = sel.vectors
    if not len(sel.chosen):
        first = int(rng.integers(len(vectors)))
        sel.add(first, "diverse", 1.0)
        count -= 1
    nearest = (vectors @ sel.chosen.T).max(1)
    for _ in range(count):
        distance = np.where(sel.taken, -np.inf, 1.0 - nearest)
        for i in np.argsort(-distance, kind="stable"):
            if distance[i] == -np.inf:
                return
            if sel.allowed(i):
                sel.add(i, "diverse", distance[i])
                nearest = np.maximum(nearest, vectors @ vectors[i])
                break
        else:
            return


def suggest_file(classifier, pool: str | Path, out: str | Path, n: int, *, exclude: Sequence[str | Path] = (),
                 mix: dict[str, float] | None = None, seed: int = 0, group_field: str = "doc_id",
                 text_field: str = "text", id_field: str = "id", batch_size: int = 32, dedup_cosine: float = 0.95,
                 max_per_doc: int | None = 3, progress: bool = True) -> dict:
    """Write the ``n`` paragraphs of ``pool`` most worth labelling to ``out`` (JSONL); returns a summary.

    Each output row is the pool row (id, text, other fields) plus ``suggest_share`` and
    ``suggest_score``. Rows whose id is in any ``exclude`` file, and empty texts, are not candidates.
    """
    import json

    from .data import unlabelled_candidates

    rows, skipped = unlabelled_candidates(pool, exclude, text_field, id_field)
    topic, stance, vectors = classifier.encode([r.text for r in rows], batch_size=batch_size, progress=progress)
    groups = [r.meta.get(group_field, r.id) for r in rows]
    picks = select(topic, stance, vectors, classifier.thresholds, n, groups=groups, mix=mix, seed=seed,
                   dedup_cosine=dedup_cosine, max_per_doc=max_per_doc)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for p in picks:
            r = rows[p.index]
            f.write(json.dumps({id_field: r.id, text_field: r.text, **r.meta, "suggest_share": p.share,
                                "suggest_score": round(p.score, 5)}, ensure_ascii=False) + "\n")
    return {"candidates": len(rows), **skipped, "written": len(picks),
            "shares": {s: sum(p.share == s for p in picks) for s in SHARES}}
