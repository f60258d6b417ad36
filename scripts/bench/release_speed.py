"""The release check on speed: a candidate default against the current one, in one process.

Both classify the same pool paragraphs on their automatic runtime path, in alternating rounds
(so drifts of a noisy machine hit both alike); paragraphs/s is taken from each model's median
round. The ship limit is a ratio (new / old) of at least 0.9.

    python scripts/bench/release_speed.py runs/default/model default --n 400 --rounds 6
    python scripts/bench/release_speed.py default runs/default/model --precision fp32  # a CPU without bf16
"""
import argparse
import json
import statistics
import time
from pathlib import Path

from newsclf import Classifier
from newsclf.data import iter_texts

ROOT = Path(__file__).resolve().parents[2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old", help="model folder, hub id, or 'default' (the bundled model)")
    p.add_argument("new")
    p.add_argument("--pool", default=str(ROOT.parent / "shared" / "corpus" / "paragraphs.jsonl"))
    p.add_argument("--n", type=int, default=400)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="auto", help="the runtime path of both (auto: this machine's own)")
    args = p.parse_args()
    texts = []
    for row in iter_texts(args.pool):
        if len(texts) == args.n:
            break
        texts.append(row.text)
    models = {name: Classifier.from_pretrained(None if name == "default" else name, device=args.device,
                                            precision=args.precision)
              for name in (args.old, args.new)}
    for clf in models.values():
        clf(texts[:32])  # warm-up
    seconds = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, clf in models.items():
            start = time.perf_counter()
            clf(texts, batch_size=32)
            seconds[name].append(time.perf_counter() - start)
    rate = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}
    print(json.dumps({"paragraphs_per_s": rate, "ratio_new_over_old": rate[args.new] / rate[args.old],
                      "seconds": seconds}))


if __name__ == "__main__":
    main()
