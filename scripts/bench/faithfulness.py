"""Faithfulness of the integrated-gradients explanations (ERASER comprehensiveness) on a labelled split.

For each paragraph it explains the predicted stance and the top-scoring topic, then deletes the
k highest-scoring words, and separately k random words (several seeded draws), and measures how much the
explained probability drops. Faithful attributions: the top-k drop is well above the random drop.
Paragraphs are taken in a seeded random order until ``--n`` are done or ``--budget`` seconds of
explaining have passed (the subset is then the first m of that order). Prints a markdown table
and one JSON line (also written to ``--out``).

    python scripts/bench/faithfulness.py data/test.jsonl [--model DIR] [--n 424] [--budget 1500] [--steps 32]
"""
import argparse
import json
import sys
import time
from collections import Counter

import numpy as np
import torch

from newsclf import Classifier
from newsclf.data import read_records
from newsclf.explain import comprehensiveness, explain


def parse_k(value: str) -> int | float:
    return float(value) if "." in value else int(value)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data")
    p.add_argument("--model", help="saved model folder (default: the bundled model)")
    p.add_argument("--n", type=int, help="at most this many paragraphs (default: all)")
    p.add_argument("--budget", type=float, default=float("inf"), help="stop explaining after this many seconds")
    p.add_argument("--steps", type=int, default=32, help="integrated-gradients steps")
    p.add_argument("--ks", default="1,3,5,0.1", help="words to delete: counts, or shares of a paragraph's words")
    p.add_argument("--repeats", type=int, default=3, help="random deletions per paragraph and k (seeded)")
    p.add_argument("--order-seed", type=int, default=0, help="seed of the paragraph order")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    records = read_records(args.data)
    order = np.random.default_rng(args.order_seed).permutation(len(records))[:args.n or len(records)]
    clf = Classifier.from_pretrained(args.model, device="cpu", backend="torch", precision="fp32")
    explained = {"stance": [], "topic": []}
    start = time.perf_counter()
    for done, i in enumerate(order):
        if time.perf_counter() - start > args.budget:
            break
        for target, out in explained.items():
            out.append(explain(clf, records[i].text, target, n_steps=args.steps))
        print(f"\r{done + 1}/{len(order)} paragraphs, {time.perf_counter() - start:.0f} s", end="", file=sys.stderr)
    seconds = time.perf_counter() - start
    print(file=sys.stderr)
    ks = [parse_k(k) for k in args.ks.split(",")]
    result = {"data": args.data, "n_paragraphs": len(explained["stance"]), "order_seed": args.order_seed,
              "ig_steps": args.steps, "explain_seconds": round(seconds, 1),
              "random_repeats": args.repeats, "targets": {}}
    for target, explanations in explained.items():
        deltas = [abs(e.delta) for e in explanations]
        rows = {}
        for k in ks:
            run = comprehensiveness(clf, explanations, k=k, seed=0, repeats=args.repeats)
            top = np.array([r["top_k_drop"] for r in run["per_text"]])
            random = np.array([r["random_k_drop"] for r in run["per_text"]])
            rows[str(k)] = {"top_k_drop": float(top.mean()), "random_k_drop": float(random.mean()),
                            "share_top_beats_random": float((top > random).mean()),
                            "mean_probability": float(np.mean([r["probability"] for r in run["per_text"]]))}
        result["targets"][target] = {"median_abs_delta": float(np.median(deltas)), "max_abs_delta": float(max(deltas)),
                                     "labels": dict(Counter(e.target for e in explanations)), "k": rows}
    print(f"| target | k | top-k drop | random-k drop (mean of {args.repeats} draws) | top-k > random |")
    print("|---|---|---|---|---|")
    for target, t in result["targets"].items():
        for k, r in t["k"].items():
            shown = f"{float(k):.0%} of words" if "." in k else f"{k} word{'s' * (k != '1')}"
            print(f"| {target} | {shown} | {r['top_k_drop']:.3f} | {r['random_k_drop']:.3f} | "
                  f"{r['share_top_beats_random']:.0%} |")
    print(json.dumps(result))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
