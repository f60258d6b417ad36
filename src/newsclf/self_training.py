"""Self-training: a teacher labels unlabelled paragraphs and the confident ones join the training set.

The teacher is one model or the average of several (seeds, or any source of probabilities, such as the
n-gram floor). Its decision rules, topic thresholds and stance prior weights, are tuned on gold dev records
for the averaged probabilities, as training tunes a model's. A paragraph is kept only when every topic
score is at least ``topic_margin`` log-odds from its threshold and the chosen stance's reweighted
probability is at least ``stance_confidence``: the teacher is unsure of the rest, and a student would
learn its mistakes. Kept rows are written in the labelled-record format with ``label_source: "pseudo"``;
a config names the file in ``data.pseudo_labels`` (added to train, never to dev or test). As the gold
splits are by document, no paragraph of a dev or test document may be pseudo-labelled for training.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .labels import STANCES, TOPICS
from .metrics import logit, reweight, tune_class_weights, tune_thresholds


@dataclass(frozen=True)
class Teacher:
    """The decision rules of a teacher (one model, or an average of several), tuned on dev for its
    probabilities, and the labels they give."""

    thresholds: list[float]
    stance_weights: list[float]

    @classmethod
    def tuned(cls, topic_true: np.ndarray, stance_true: np.ndarray, dev_topic: np.ndarray,
              dev_stance: np.ndarray) -> Teacher:
        """Rules that maximise dev F1 for these (averaged) dev probabilities."""
        return cls(tune_thresholds(topic_true, dev_topic), tune_class_weights(stance_true, dev_stance))

    def label(self, topic_probs: np.ndarray, stance_probs: np.ndarray, topic_margin: float = 2.0,
              stance_confidence: float = 0.9) -> tuple[np.ndarray, list[tuple[str, ...]], list[str]]:
        """Per row: whether it is kept, its topics and its stance under these rules."""
        if topic_margin < 0 or not 0 <= stance_confidence <= 1:
            raise ValueError(f"topic_margin must be >= 0 and stance_confidence in [0, 1], got {topic_margin}, "
                             f"{stance_confidence}")
        topic_probs, stance_probs = np.asarray(topic_probs, float), reweight(stance_probs, self.stance_weights)
        margin = np.abs(logit(topic_probs) - logit(np.asarray(self.thresholds, float))[None, :]).min(1)
        keep = (margin >= topic_margin) & (stance_probs.max(1) >= stance_confidence)
        on = topic_probs >= np.asarray(self.thresholds)[None, :]
        topics = [tuple(t for t, flag in zip(TOPICS, row) if flag) for row in on]
        stance = [STANCES[i] for i in stance_probs.argmax(1)]
        return keep, topics, stance


def average(probabilities: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean topic and stance probabilities of several (topic, stance) pairs over the same rows."""
    if not probabilities:
        raise ValueError("a teacher needs at least one model's probabilities")
    topic = np.mean([np.asarray(t, float) for t, _ in probabilities], axis=0)
    stance = np.mean([np.asarray(s, float) for _, s in probabilities], axis=0)
    return topic, stance


def write_pseudo_labels(rows: Sequence, keep: np.ndarray, topics: Sequence, stance: Sequence, out: str | Path,
                        teacher: str) -> dict:
    """Write the kept rows (``InputRow``s: id, text, meta) as labelled records; returns counts."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    kept = [i for i in range(len(rows)) if keep[i]]
    with open(out, "w", encoding="utf-8") as f:
        for i in kept:
            r = rows[i]
            meta = {k: v for k, v in r.meta.items() if k not in ("topics", "stance", "label_source", "teacher")}
            f.write(json.dumps({"id": r.id, "text": r.text, "topics": list(topics[i]), "stance": stance[i], **meta,
                                "label_source": "pseudo", "teacher": teacher}, ensure_ascii=False) + "\n")
    return {"candidates": len(rows), "kept": len(kept),
            "stance": {s: sum(stance[i] == s for i in kept) for s in STANCES},
            "topics": {t: sum(t in topics[i] for i in kept) for t in TOPICS}}


def pseudo_label_file(classifiers: dict, pool: str | Path, out: str | Path, dev: str | Path, *,
                      exclude: Sequence[str | Path] = (), held_out: Sequence[str | Path] = (),
                      topic_margin: float = 2.0, stance_confidence: float = 0.9, batch_size: int = 32,
                      progress: bool = True) -> dict:
    """Label ``pool`` with the average of ``classifiers`` (name -> Classifier; rules tuned on ``dev``) and
    write the confident rows to ``out``. Skipped: ids in ``dev`` or any ``exclude`` file; paragraphs of a
    document in ``dev`` or any ``held_out`` file (the test split), which must not reach training; empty
    texts. Returns counts."""
    from .data import label_arrays, read_records, unlabelled_candidates

    dev_records = read_records(dev)
    rows, skipped = unlabelled_candidates(pool, [dev, *exclude], held_out=[dev, *held_out])

    def probs(texts):
        return average([c.predict_proba(texts, batch_size=batch_size, progress=progress) for c in classifiers.values()])

    teacher = Teacher.tuned(*label_arrays(dev_records), *probs([r.text for r in dev_records]))
    pool_probs = probs([r.text for r in rows])
    keep, topics, stance = teacher.label(*pool_probs, topic_margin=topic_margin, stance_confidence=stance_confidence)
    return {**write_pseudo_labels(rows, keep, topics, stance, out, " + ".join(classifiers)), **skipped,
            "rules": {"topic_thresholds": teacher.thresholds, "stance_prior_weights": teacher.stance_weights}}

