"""Accuracy of each runtime path against fp32, on a labelled split, with the default model.

Every reduced-precision path (bf16, ONNX fp32, ONNX int8) should keep topic micro-F1 and
stance macro-F1 within 1 point of fp32; prints a table and one JSON line.

    python scripts/precision_accuracy.py data/test.jsonl
"""
import argparse
import json
import sys
import time

from newsclf.data import label_arrays, read_records
from newsclf.default_model import load_default
from newsclf.metrics import score_report


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("data")
    p.add_argument("--precisions", default="fp32,bf16,onnx-int8")
    args = p.parse_args()
    records = read_records(args.data)
    topic_true, stance_true = label_arrays(records)
    rows = {}
    for precision in args.precisions.split(","):
        clf = load_default(device="cpu", precision=precision)
        start = time.perf_counter()
        topics, stance = clf.predict_proba([r.text for r in records])
        seconds = time.perf_counter() - start
        report = score_report(topic_true, topics, clf.thresholds, stance_true, stance)
        rows[precision] = {"topic_micro_f1": report["topics"]["micro_f1"],
                           "stance_macro_f1": report["stance"]["macro_f1"], "seconds": seconds}
    base = rows["fp32"]
    for precision, r in rows.items():
        r["topic_delta_points"] = round(100 * (r["topic_micro_f1"] - base["topic_micro_f1"]), 2)
        r["stance_delta_points"] = round(100 * (r["stance_macro_f1"] - base["stance_macro_f1"]), 2)
        r["within_1_point"] = abs(r["topic_delta_points"]) <= 1 and abs(r["stance_delta_points"]) <= 1
        print(f"{precision:10s} topic micro-F1 {r['topic_micro_f1']:.4f} ({r['topic_delta_points']:+.2f})  "
              f"stance macro-F1 {r['stance_macro_f1']:.4f} ({r['stance_delta_points']:+.2f})  {r['seconds']:.1f} s",
              file=sys.stderr)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
