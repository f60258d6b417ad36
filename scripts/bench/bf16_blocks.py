"""bf16 blocks on an AMX CPU (``newsclf.runtime.AMX_BLOCK_TOKENS``): speed and batch independence.

On a CPU with AMX, oneDNN's bf16 matrix products sum in an order that depends on the number of
rows, so the torch bf16 runner runs windows in blocks whose row count depends on their width
alone. Larger blocks run a corpus faster; smaller ones waste less on a single paragraph. For each
block size (0: unblocked, the old behaviour) this prints, as one JSON object: the largest score
difference between paragraphs run alone and in one batch, and corpus and one-at-a-time
paragraphs/s as ratios to torch fp32, measured in one process in alternating rounds.

    python scripts/bench/bf16_blocks.py --blocks 0,512,1024,2048 --n 800 --rounds 2
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import newsclf.runtime as runtime
from newsclf import Classifier
from newsclf.data import iter_texts

ROOT = Path(__file__).resolve().parents[2]


def seconds(clf, texts, one_at_a_time: bool) -> float:
    start = time.perf_counter()
    if one_at_a_time:
        for text in texts:
            clf.predict_proba([text], batch_size=1)
    else:
        clf.predict_proba(texts, batch_size=32)
    return time.perf_counter() - start


def batch_difference(clf, texts) -> float:
    """Largest probability difference between each paragraph alone and all of them in one batch."""
    together = np.concatenate(clf.predict_proba(texts, batch_size=len(texts)), axis=1)
    alone = np.concatenate([np.concatenate(clf.predict_proba([t], batch_size=1), axis=1) for t in texts])
    return float(np.abs(together - alone).max())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", default=str(ROOT.parent / "shared" / "corpus" / "paragraphs.jsonl"))
    p.add_argument("--n", type=int, default=800, help="paragraphs run as a corpus")
    p.add_argument("--singles", type=int, default=8, help="paragraphs run one at a time")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--blocks", default="0,512,1024,2048")
    args = p.parse_args()
    texts = [row.text for _, row in zip(range(args.n), iter_texts(args.pool))]
    shipped, blocks = runtime.AMX_BLOCK_TOKENS, [int(b) for b in args.blocks.split(",")]
    fp32 = Classifier.from_pretrained(None, device="cpu", backend="torch", precision="fp32")
    bf16 = Classifier.from_pretrained(None, device="cpu", backend="torch", precision="bf16")
    runs = [("fp32", fp32, None)] + [(f"bf16 block {b}", bf16, b) for b in blocks]
    corpus, single, difference = ({name: [] for name, _, _ in runs} for _ in range(3))
    for name, clf, block in runs:
        clf.runner.block_tokens = block or 0
        difference[name] = batch_difference(clf, sorted(texts[:36], key=len)[::3])
        seconds(clf, texts[:32], False)  # warm-up
    for _ in range(args.rounds):
        for name, clf, block in runs:
            clf.runner.block_tokens = block or 0
            corpus[name].append(seconds(clf, texts, False))
            single[name].append(seconds(clf, texts[:args.singles], True))
    ratio = lambda s: {k: statistics.median(s["fp32"]) / statistics.median(v) for k, v in s.items()}  # noqa: E731
    print(json.dumps({"shipped_block_tokens": shipped, "max_batch_difference": difference,
                      "corpus_speed_vs_fp32": ratio(corpus), "one_at_a_time_speed_vs_fp32": ratio(single),
                      "fp32_ms_per_single_paragraph": 1000 * statistics.median(single["fp32"]) / args.singles}))


if __name__ == "__main__":
    main()
