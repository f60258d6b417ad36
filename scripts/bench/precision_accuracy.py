"""Accuracy and batch-independence of each runtime path, on a labelled split.

For each path (backend/precision) it reports topic micro-F1 and stance macro-F1 against the
torch fp32 path (each reduced path should stay within 1 point), how many paragraphs' labels differ
from torch fp32's (on a few hundred paragraphs a handful of flips near a decision boundary move the
F1 deltas by a point either way, so the count is the steadier measure), and how far a paragraph's
scores move when it is classified alone rather than inside a mixed-length batch of 64 (the
largest score difference, and how many labels change: a paragraph's result must not depend on
its neighbours). Prints a table and one JSON line.

    python scripts/bench/precision_accuracy.py data/test.jsonl [--model DIR] [--paths torch/fp32,torch/bf16,onnx/int8]
"""
import argparse
import json
import sys

import numpy as np

from newsclf import Classifier
from newsclf.data import label_arrays, read_records
from newsclf.metrics import score_report


def alone_vs_batched(clf: Classifier, texts: list[str]) -> dict:
    """Largest score difference and label changes, each text alone vs all in one batch."""
    batched = clf(texts, batch_size=len(texts))
    alone = [clf(t, batch_size=1) for t in texts]
    diff = max(max(abs(a.topic_scores[k] - b.topic_scores[k]) for k in a.topic_scores)
               for a, b in zip(alone, batched))
    diff = max(diff, max(max(abs(a.stance_scores[k] - b.stance_scores[k]) for k in a.stance_scores)
                         for a, b in zip(alone, batched)))
    changed = sum(a.topics != b.topics or a.stance != b.stance for a, b in zip(alone, batched))
    return {"max_score_diff_alone_vs_batched": float(diff), "label_changes_alone_vs_batched": int(changed)}


def labels(topics: np.ndarray, stance: np.ndarray, thresholds) -> tuple[np.ndarray, np.ndarray]:
    """The labels a Classifier prints: topics at or above their thresholds, the most probable stance."""
    return topics >= np.asarray(thresholds), stance.argmax(-1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data")
    p.add_argument("--model", help="saved model folder (default: the bundled model)")
    p.add_argument("--paths", default="torch/fp32,torch/bf16,onnx/int8")
    p.add_argument("--batch", type=int, default=64, help="paragraphs in the mixed-length batch")
    p.add_argument("--device", default="cpu", help="cpu, or cuda for the torch paths")
    args = p.parse_args()
    if "torch/fp32" not in args.paths.split(","):
        p.error("--paths must include torch/fp32: every other path is measured against it")
    records = read_records(args.data)
    topic_true, stance_true = label_arrays(records)
    sample = [records[i].text for i in np.random.default_rng(0).permutation(len(records))[:args.batch]]
    rows, predicted = {}, {}
    for path in args.paths.split(","):
        backend, precision = path.split("/")
        device = "cpu" if backend == "onnx" else args.device
        clf = Classifier.from_pretrained(args.model, device=device, backend=backend, precision=precision)
        topics, stance = clf.predict_proba([r.text for r in records])
        report = score_report(topic_true, topics, clf.thresholds, stance_true, stance)
        rows[path] = {"topic_micro_f1": report["topics"]["micro_f1"], "stance_macro_f1": report["stance"]["macro_f1"],
                      **alone_vs_batched(clf, sample)}
        predicted[path] = labels(topics, stance, clf.thresholds)
    base = rows["torch/fp32"]
    for path, r in rows.items():
        (t, s), (t0, s0) = predicted[path], predicted["torch/fp32"]
        r["topic_changes_vs_fp32"] = int((t != t0).any(1).sum())
        r["stance_changes_vs_fp32"] = int((s != s0).sum())
        r["topic_delta_points"] = round(100 * (r["topic_micro_f1"] - base["topic_micro_f1"]), 2)
        r["stance_delta_points"] = round(100 * (r["stance_macro_f1"] - base["stance_macro_f1"]), 2)
        print(f"{path:11s} topic micro-F1 {r['topic_micro_f1']:.4f} ({r['topic_delta_points']:+.2f})  "
              f"stance macro-F1 {r['stance_macro_f1']:.4f} ({r['stance_delta_points']:+.2f})  paragraphs whose "
              f"topics / stance differ from fp32's: {r['topic_changes_vs_fp32']} / {r['stance_changes_vs_fp32']}  "
              f"alone vs batch of "
              f"{len(sample)}: max diff {r['max_score_diff_alone_vs_batched']:.2e}, "
              f"{r['label_changes_alone_vs_batched']} label changes", file=sys.stderr)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
