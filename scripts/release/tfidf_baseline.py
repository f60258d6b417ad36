"""The floor to beat: TF-IDF (character and word n-grams) + logistic regression.

Fitted on train (or ``--train-fraction`` of its documents, chosen as ``data.train_fraction``
chooses them, for learning curves); the regularisation strength of each head and the per-topic
thresholds and stance prior weights are tuned on dev (the decision rules newsclf's models get);
scored once on test with newsclf's own metrics. Writes
``data/baseline/`` or ``--out`` (report.json with the dev scores too, report.md).

    python scripts/release/tfidf_baseline.py data
    python scripts/release/tfidf_baseline.py data --train-fraction 0.25 --out runs/curve/tfidf-25
"""
import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_union

from newsclf.data import label_arrays, read_records
from newsclf.evaluation import markdown_summary
from newsclf.metrics import (headline_scores, reweight, score_report, stance_metrics, topic_metrics, tune_thresholds,
                             tuned_report)
from newsclf.preprocessing import normalize_arabic
from newsclf.trainer import train_subset

C_GRID = (0.5, 2.0, 8.0, 32.0)


def features():
    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=300000),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"\S+"))


def fit_topics(x, y_topic, c: float) -> list:
    """One class-balanced logistic regression per topic."""
    return [LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y_topic[:, i])
            for i in range(y_topic.shape[1])]


def fit_stance(x, y_stance, c: float):
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y_stance)


def topic_probs(models, x):
    return np.stack([m.predict_proba(x)[:, 1] for m in models], axis=1)


def floor_probabilities(train: list, splits: dict, topic_c: float, stance_c: float) -> dict:
    """The floor fitted on ``train`` at the given strengths: ``{split: (topic_probs, stance_probs)}`` for ``splits``
    (``{name: records}``), as ``scripts/bench/compare_models.py`` compares it with trained models."""
    vec = features()
    x = vec.fit_transform([normalize_arabic(r.text) for r in train])
    topic_true, stance_true = label_arrays(train)
    topic_models, stance_model = fit_topics(x, topic_true, topic_c), fit_stance(x, stance_true, stance_c)
    out = {}
    for name, records in splits.items():
        features_of = vec.transform([normalize_arabic(r.text) for r in records])
        out[name] = (topic_probs(topic_models, features_of), stance_model.predict_proba(features_of))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("data_dir")
    p.add_argument("--train-fraction", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42, help="as training.seed: which documents a fraction keeps")
    p.add_argument("--out", help="report folder (default DATA_DIR/baseline)")
    args = p.parse_args()
    data = Path(args.data_dir)
    splits = {s: read_records(data / f"{s}.jsonl") for s in ("train", "dev", "test")}
    splits["train"] = train_subset(splits["train"], args.train_fraction, args.seed)
    vec = features()
    x = {"train": vec.fit_transform([normalize_arabic(r.text) for r in splits["train"]])}
    x |= {s: vec.transform([normalize_arabic(r.text) for r in splits[s]]) for s in ("dev", "test")}
    y = {s: label_arrays(recs) for s, recs in splits.items()}
    log, best_topic, best_stance = [], None, None
    for c in C_GRID:
        topic_models = fit_topics(x["train"], y["train"][0], c)
        dev_probs = topic_probs(topic_models, x["dev"])
        thresholds = tune_thresholds(y["dev"][0], dev_probs)
        topic_macro = topic_metrics(y["dev"][0], dev_probs, thresholds)["macro_f1"]
        stance_model = fit_stance(x["train"], y["train"][1], c)
        stance_macro = stance_metrics(y["dev"][1], stance_model.predict_proba(x["dev"]))["macro_f1"]
        log.append({"C": c, "dev_topic_macro_f1": topic_macro, "dev_stance_macro_f1": stance_macro})
        if best_topic is None or topic_macro > best_topic[0]:
            best_topic = (topic_macro, c, topic_models, thresholds)
        if best_stance is None or stance_macro > best_stance[0]:
            best_stance = (stance_macro, c, stance_model)
    _, topic_c, topic_models, thresholds = best_topic
    _, stance_c, stance_model = best_stance
    dev = tuned_report(y["dev"][0], topic_probs(topic_models, x["dev"]), y["dev"][1],
                       stance_model.predict_proba(x["dev"]))  # the same decision rules as newsclf's, tuned on dev
    weights = dev["rules"]["stance_prior_weights"]
    report = score_report(y["test"][0], topic_probs(topic_models, x["test"]), thresholds, y["test"][1],
                          reweight(stance_model.predict_proba(x["test"]), weights))
    report |= {"data": str(data / "test.jsonl"), "model": "tfidf char(2-5)+word(1-2) + logistic regression",
               "train_paragraphs": len(splits["train"]), "train_fraction": args.train_fraction,
               "topic_C": topic_c, "stance_C": stance_c, "stance_prior_weights": weights, "dev_tuning": log,
               "dev": headline_scores(dev)}
    out = Path(args.out) if args.out else data / "baseline"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "report.md").write_text(markdown_summary(report) + f"\nTuned on dev: topic C={topic_c}, stance C={stance_c}"
                                   f", thresholds {[round(t, 2) for t in thresholds]}.\n")
    print(json.dumps({"train_paragraphs": len(splits["train"]), **headline_scores(report), "dev": report["dev"]},
                     indent=1))


if __name__ == "__main__":
    main()
