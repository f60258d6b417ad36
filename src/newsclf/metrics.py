"""Scores for both heads: pure functions of labels and probabilities.

Topics: per-label precision/recall/F1, micro and macro F1, subset accuracy, and ECE over
every (paragraph, topic) probability. Stance: accuracy, macro F1, per-class scores, the
confusion matrix, and ECE of the top-class confidence. Intervals: a bootstrap over documents.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
from scipy.stats import DegenerateDataWarning, bootstrap
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .labels import STANCES, TOPICS

THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
PRIOR_GRID = np.round(2.0 ** np.arange(-2, 2.01, 0.25), 4)  # stance class weights from 1/4 to 4


def reliability_bins(confidence: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Equal-width bins of predicted probability with their observed frequency and count."""
    confidence, outcome = np.asarray(confidence, float), np.asarray(outcome, float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = which == b
        n = int(mask.sum())
        bins.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "count": n,
                     "confidence": float(confidence[mask].mean()) if n else None,
                     "frequency": float(outcome[mask].mean()) if n else None})
    return bins


def expected_calibration_error(confidence: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> float:
    """ECE: count-weighted mean |observed frequency - mean confidence| over equal-width bins."""
    total = len(confidence)
    if total == 0:
        return float("nan")
    return float(sum(b["count"] / total * abs(b["frequency"] - b["confidence"])
                     for b in reliability_bins(confidence, outcome, n_bins) if b["count"]))


def topic_metrics(y_true: np.ndarray, probs: np.ndarray, thresholds) -> dict:
    """Multi-label scores of topic probabilities (N x topics) cut at per-topic thresholds."""
    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs, float)
    y_pred = (probs >= np.asarray(thresholds)[None, :]).astype(int)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0,
                                                 labels=list(range(len(TOPICS))))
    per_label = {t: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i]),
                     "threshold": float(thresholds[i])} for i, t in enumerate(TOPICS)}
    none_true, none_pred = y_true.sum(1) == 0, y_pred.sum(1) == 0
    return {
        "per_label": per_label,
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "subset_accuracy": float((y_true == y_pred).all(1).mean()),
        "none_f1": float(f1_score(none_true, none_pred, zero_division=0)),
        "ece": expected_calibration_error(probs.ravel(), y_true.ravel()),
        "reliability": reliability_bins(probs.ravel(), y_true.ravel()),
        "n": int(len(y_true)),
    }


def stance_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict:
    """Single-label scores of stance probabilities (N x stances)."""
    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs, float)
    y_pred = probs.argmax(1)
    labels = list(range(len(STANCES)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    confidence = probs.max(1)
    correct = (y_pred == y_true).astype(float)
    return {
        "per_label": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, c in enumerate(STANCES)},
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "ece": expected_calibration_error(confidence, correct),
        "reliability": reliability_bins(confidence, correct),
        "n": int(len(y_true)),
    }


def score_report(topic_true, topic_probs, thresholds, stance_true, stance_probs) -> dict:
    """Both heads' scores plus ``score``, the mean of topic macro-F1 and stance macro-F1."""
    topics = topic_metrics(topic_true, topic_probs, thresholds)
    stance = stance_metrics(stance_true, stance_probs)
    return {"topics": topics, "stance": stance, "score": (topics["macro_f1"] + stance["macro_f1"]) / 2}


def headline_scores(report: dict) -> dict:
    """The three scores the project's targets and tables use, from a ``score_report``."""
    return {"topic_micro_f1": report["topics"]["micro_f1"], "topic_macro_f1": report["topics"]["macro_f1"],
            "stance_macro_f1": report["stance"]["macro_f1"]}


HEADLINE = ("topic_micro_f1", "topic_macro_f1", "stance_macro_f1")


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 from (weighted) counts; 0 where a label is neither true nor predicted, as sklearn's zero_division=0."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float), where=denominator > 0)


def _weighted_headline(weights, topic_true, topic_pred, stance_true, stance_pred) -> dict[str, np.ndarray]:
    """The headline scores for each row of paragraph weights (resamples x paragraphs), from weighted counts."""
    def counts(true, pred):
        return (weights @ (true & pred), weights @ (~true & pred), weights @ (true & ~pred))

    topic_tp, topic_fp, topic_fn = counts(topic_true, topic_pred)
    stance_f1 = _f1(*counts(stance_true, stance_pred))
    return {"topic_micro_f1": _f1(topic_tp.sum(-1), topic_fp.sum(-1), topic_fn.sum(-1)),
            "topic_macro_f1": _f1(topic_tp, topic_fp, topic_fn).mean(-1), "stance_macro_f1": stance_f1.mean(-1)}


def _decisions(topic_probs, thresholds, stance_probs) -> tuple[np.ndarray, np.ndarray]:
    """Boolean topic and one-hot stance decisions, as ``score_report`` makes them."""
    topic_pred = np.asarray(topic_probs, float) >= np.asarray(thresholds)[None, :]
    stance_probs = np.asarray(stance_probs, float)
    return topic_pred, np.eye(stance_probs.shape[1], dtype=bool)[stance_probs.argmax(1)]


def score_intervals(topic_true, topic_probs, thresholds, stance_true, stance_probs, groups=None, baseline=None,
                    n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of the three headline scores (arguments as ``score_report``).

    Resampling draws whole ``groups`` (one key per paragraph, e.g. its document; default: each paragraph
    alone), since paragraphs of one article share a story and a framing and are not independent draws.
    With ``baseline`` = ``(topic_probs, thresholds, stance_probs)`` of another model on the same paragraphs,
    the intervals are of the difference (this model minus the baseline) on the same resamples: a paired test
    of whether one model beats the other on this data.
    """
    topic_true = np.asarray(topic_true).astype(bool)
    stance_true = np.asarray(stance_true).astype(int)
    stance_true = np.eye(np.asarray(stance_probs).shape[1], dtype=bool)[stance_true]

    def scored(model):
        topic_pred, stance_pred = _decisions(*model)
        return topic_true, topic_pred, stance_true, stance_pred

    ours = scored((topic_probs, thresholds, stance_probs))
    theirs = None if baseline is None else scored(baseline)
    groups = np.arange(len(topic_true)) if groups is None else np.asarray(groups)
    _, group_of = np.unique(groups, return_inverse=True)
    n_groups = int(group_of.max()) + 1

    def statistic(key):
        def f(sample, axis=-1):
            sample = np.asarray(sample, int)
            drawn = sample.reshape(-1, n_groups)
            counts = np.zeros(drawn.shape)
            np.add.at(counts, (np.arange(len(drawn))[:, None], drawn), 1)
            weights = counts[:, group_of]  # each paragraph weighs as often as its group was drawn
            value = _weighted_headline(weights, *ours)[key]
            if theirs is not None:
                value = value - _weighted_headline(weights, *theirs)[key]
            return value.reshape(sample.shape[:-1])
        return f

    out = {}
    for key in HEADLINE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateDataWarning)  # every resample scored alike: see below
            result = bootstrap((np.arange(n_groups),), statistic(key), n_resamples=n_resamples, batch=100,
                               vectorized=True, method="percentile", confidence_level=confidence,
                               random_state=np.random.default_rng(seed))
        low, high = result.confidence_interval
        if np.isnan(low) or np.isnan(high):  # a degenerate distribution: its one value is the interval
            low, high = np.nanmin(result.bootstrap_distribution), np.nanmax(result.bootstrap_distribution)
        out[key] = [float(low), float(high)]
    return out


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray) -> list[float]:
    """Per-topic threshold maximising that topic's F1 on a dev set (ties: closest to 0.5)."""
    y_true = np.asarray(y_true).astype(int)
    probs = np.asarray(probs, float)
    best = []
    for i in range(y_true.shape[1]):
        scores = [f1_score(y_true[:, i], probs[:, i] >= t, zero_division=0) for t in THRESHOLD_GRID]
        top = max(scores)
        candidates = [t for t, s in zip(THRESHOLD_GRID, scores) if s >= top - 1e-12]
        best.append(float(min(candidates, key=lambda t: abs(t - 0.5))) if top > 0 else 0.5)
    return best


def logit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Log-odds of probabilities clipped to [eps, 1 - eps]: the scale on which closeness to a threshold is
    measured."""
    p = np.clip(np.asarray(p, float), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def reweight(probs: np.ndarray, weights) -> np.ndarray:
    """Probabilities after a prior shift: each class's probability times its weight, renormalised."""
    p = np.asarray(probs, float) * np.asarray(weights, float)[None, :]
    return (p / np.maximum(p.sum(1, keepdims=True), 1e-12)).astype(np.float32)


def tune_class_weights(y_true: np.ndarray, probs: np.ndarray) -> list[float]:
    """Stance class weights (the last class, neutral, fixed at 1) maximising macro-F1 on a dev set;
    ties go to the weights closest to 1. Class-weighted training leaves the heads' priors off; this
    sets the decision rule back on dev, as topic thresholds do."""
    y_true = np.asarray(y_true).astype(int)
    labels = list(range(probs.shape[1]))
    best, best_key = [1.0] * probs.shape[1], None
    for combo in itertools.product(PRIOR_GRID, repeat=probs.shape[1] - 1):
        weights = [*combo, 1.0]
        pred = (np.asarray(probs, float) * np.asarray(weights)[None, :]).argmax(1)
        score = f1_score(y_true, pred, labels=labels, average="macro", zero_division=0)
        key = (round(score, 12), -sum(abs(np.log2(w)) for w in weights))
        if best_key is None or key > best_key:
            best, best_key = [float(w) for w in weights], key
    return best


def tuned_report(topic_true, topic_probs, stance_true, stance_probs) -> dict:
    """``score_report`` with the decision rules (topic thresholds, stance prior weights) tuned on the same
    data, as model selection on dev does; the rules are in ``report["rules"]``."""
    thresholds, weights = tune_thresholds(topic_true, topic_probs), tune_class_weights(stance_true, stance_probs)
    report = score_report(topic_true, topic_probs, thresholds, stance_true, reweight(stance_probs, weights))
    return report | {"rules": {"topic_thresholds": thresholds, "stance_prior_weights": weights}}
