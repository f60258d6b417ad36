"""Self-training: a teacher labels unlabelled paragraphs and the confident ones join the training set.

The teacher is one model or the average of several (seeds, or any source of probabilities, such as the
n-gram floor). Its decision rules, topic thresholds and stance prior weights, are tuned on gold dev records
for the averaged probabilities, as training tunes a model's. A paragraph is kept only when every topic
score is at least ``topic_margin`` log-odds from its threshold and the chosen stance's reweighted
probability is at least ``stance_confidence``: the teacher is unsure of the rest, and a student would
learn its mistakes. Kept rows are written in the labelled-record format with ``label_source: "pseudo"``;
a config names the file in ``data.pseudo_labels`` (added to train, never to dev or test). As the gold
splits are by document, no paragraph of a dev or test document may be pseudo-labelled for training.

With ``soft``, each row also carries the teacher's probabilities under its rules (topic scores moved so
that the tuned threshold sits at 0.5, stance reweighted by the prior weights), and the student learns
those rather than the hard labels: distillation, which passes on how sure the teacher is, so that rows
it is unsure of (kept with a margin of 0) teach without teaching its mistakes as certainties.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit

from .data import SOFT_FIELD, label_arrays, read_records, unlabelled_candidates
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
        margin = np.abs(self._past_threshold(topic_probs)).min(1)
        keep = (margin >= topic_margin) & (stance_probs.max(1) >= stance_confidence)
        on = topic_probs >= np.asarray(self.thresholds)[None, :]
        topics = [tuple(t for t, flag in zip(TOPICS, row) if flag) for row in on]
        stance = [STANCES[i] for i in stance_probs.argmax(1)]
        return keep, topics, stance

    def soft_targets(self, topic_probs: np.ndarray, stance_probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The probabilities under these rules, for a student that decides at 0.5 and the training priors:
        each topic's log-odds shifted by its threshold's, and the stance reweighted by the prior weights."""
        return expit(self._past_threshold(topic_probs)).astype(np.float32), reweight(stance_probs, self.stance_weights)

    def _past_threshold(self, topic_probs: np.ndarray) -> np.ndarray:
        """How far each topic score is above its threshold, in log-odds."""
        return logit(topic_probs) - logit(np.asarray(self.thresholds, float))[None, :]


def average(probabilities: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean topic and stance probabilities of several (topic, stance) pairs over the same rows."""
    if not probabilities:
        raise ValueError("a teacher needs at least one model's probabilities")
    topic = np.mean([np.asarray(t, float) for t, _ in probabilities], axis=0)
    stance = np.mean([np.asarray(s, float) for _, s in probabilities], axis=0)
    return topic, stance


MACHINE_FIELDS = ("topics", "stance", "label_source", "teacher", SOFT_FIELD)  # a pool row's own are replaced


def write_pseudo_labels(rows: Sequence, keep: np.ndarray, topics: Sequence, stance: Sequence, out: str | Path,
                        teacher: str, soft: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Write the kept rows (``InputRow``s: id, text, meta) as labelled records, with their ``soft`` (topic,
    stance) probabilities when given; returns counts."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    kept = [i for i in range(len(rows)) if keep[i]]
    with open(out, "w", encoding="utf-8") as f:
        for i in kept:
            r = rows[i]
            meta = {k: v for k, v in r.meta.items() if k not in MACHINE_FIELDS}
            row = {"id": r.id, "text": r.text, "topics": list(topics[i]), "stance": stance[i], **meta,
                   "label_source": "pseudo", "teacher": teacher}
            if soft is not None:
                row[SOFT_FIELD] = {"topics": {t: round(float(p), 4) for t, p in zip(TOPICS, soft[0][i])},
                                   "stance": _distribution(soft[1][i])}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"candidates": len(rows), "kept": len(kept),
            "stance": {s: sum(stance[i] == s for i in kept) for s in STANCES},
            "topics": {t: sum(t in topics[i] for i in kept) for t in TOPICS}}


def _distribution(probs: np.ndarray) -> dict:
    """Stance probabilities rounded to 4 places that still sum to 1 (the rounding error goes to the largest)."""
    rounded = [round(float(p), 4) for p in probs]
    top = int(np.argmax(rounded))
    rounded[top] = round(1 - sum(p for i, p in enumerate(rounded) if i != top), 4)
    return dict(zip(STANCES, rounded))


def pseudo_label_file(classifiers: dict, pool: str | Path, out: str | Path, dev: str | Path, *,
                      exclude: Sequence[str | Path] = (), held_out: Sequence[str | Path] = (),
                      topic_margin: float = 2.0, stance_confidence: float = 0.9, soft: bool = False,
                      batch_size: int = 32, progress: bool = True) -> dict:
    """Label ``pool`` with the average of ``classifiers`` (name -> Classifier; rules tuned on ``dev``) and
    write the confident rows to ``out`` (with the teacher's probabilities if ``soft``). Skipped: ids in
    ``dev`` or any ``exclude`` file; paragraphs of a document in ``dev`` or any ``held_out`` file (the test
    split), which must not reach training; empty texts. Returns counts."""
    dev_records = read_records(dev)
    rows, skipped = unlabelled_candidates(pool, [dev, *exclude], held_out=[dev, *held_out])

    def probs(texts):
        return average([c.predict_proba(texts, batch_size=batch_size, progress=progress) for c in classifiers.values()])

    teacher = Teacher.tuned(*label_arrays(dev_records), *probs([r.text for r in dev_records]))
    pool_probs = probs([r.text for r in rows])
    keep, topics, stance = teacher.label(*pool_probs, topic_margin=topic_margin, stance_confidence=stance_confidence)
    targets = teacher.soft_targets(*pool_probs) if soft else None
    return {**write_pseudo_labels(rows, keep, topics, stance, out, " + ".join(classifiers), targets), **skipped,
            "rules": {"topic_thresholds": teacher.thresholds, "stance_prior_weights": teacher.stance_weights}}

