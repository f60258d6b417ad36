"""Paragraphs/s of the default model for several width buckets (``newsclf.batching.PAD_MULTIPLE``).

A batch holds windows of one padded width (length rounded up to the multiple), so that a window's
scores never depend on its batch. A small multiple wastes little padding but splits batches; a
large one fills batches with padding. One process, the same pool paragraphs, alternating rounds
(drifts of a noisy machine hit all alike); paragraphs/s from each one's median round, per torch
precision; ratios against the shipped multiple. Prints one JSON object.

    python scripts/bench/bucket_speed.py --multiples 1,16,32 --n 400 --rounds 5
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import newsclf.batching as batching
from newsclf import Classifier
from newsclf.data import iter_texts

ROOT = Path(__file__).resolve().parents[2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", default=str(ROOT.parent / "shared" / "corpus" / "paragraphs.jsonl"))
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--multiples", default="1,16,32")
    p.add_argument("--precisions", default="bf16,fp32")
    args = p.parse_args()
    texts = [row.text for _, row in zip(range(args.n), iter_texts(args.pool))]
    shipped, multiples = batching.PAD_MULTIPLE, [int(m) for m in args.multiples.split(",")]
    out = {"shipped_multiple": shipped}
    for precision in args.precisions.split(","):
        clf = Classifier.from_pretrained(None, device="cpu", backend="torch", precision=precision)
        clf(texts[:32])  # warm-up
        seconds = {m: [] for m in multiples}
        for _ in range(args.rounds):
            for multiple in multiples:
                batching.PAD_MULTIPLE = multiple
                start = time.perf_counter()
                clf(texts, batch_size=32)
                seconds[multiple].append(time.perf_counter() - start)
        batching.PAD_MULTIPLE = shipped
        rate = {m: len(texts) / statistics.median(s) for m, s in seconds.items()}
        out[precision] = {"paragraphs_per_s": rate,
                          "ratio_to_shipped": {m: r / rate[shipped] for m, r in rate.items() if shipped in rate}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
