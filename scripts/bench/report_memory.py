"""Peak memory of ``newsclf report`` (``build_report``) over 10,000 and 1,000,000 synthetic prediction rows.

The report streams its input and keeps counts per group and period only, so its peak memory
should not grow with the number of rows. Each size is measured in a fresh subprocess twice:
tracemalloc's peak of Python allocations, and the peak resident memory (max RSS) of the process.
The synthetic rows have realistic outlets (Latin and Arabic names, a few missing), dates over
2018 (a few missing), articles of 1-12 paragraphs, 1 % no-content rows and random labels.

    python scripts/bench/report_memory.py            # 10k and 1M rows, prints JSON
    python scripts/bench/report_memory.py --sizes 10000 100000
"""
import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from newsclf.labels import STANCES, TOPICS

OUTLETS = ["skynewsarabia", "bbc", "france24", "cnn", "alarabiya", "aljazeera.net", "enabbaladi.net", "sana.sy",
           "عنب بلدي", "الوطن", None]
WEIGHTS = [30, 18, 16, 10, 8, 6, 4, 3, 2, 1, 1, 1]  # the last two: no outlet (null, empty)


def synthetic_rows(n: int, seed: int = 0):
    """``n`` prediction rows as ``newsclf predict`` writes them (JSONL form), articles kept together."""
    rng = random.Random(seed)
    i = article = 0
    while i < n:
        outlet = rng.choices(OUTLETS + [""], WEIGHTS)[0]
        day = None if rng.random() < 0.03 else (date(2018, 1, 1) + timedelta(days=rng.randrange(300))).isoformat()
        for p in range(min(rng.randint(1, 12), n - i)):
            empty = rng.random() < 0.01
            topics = [] if empty else [t for t in TOPICS if rng.random() < 0.25]
            scores = {t: round(rng.random(), 5) for t in TOPICS}
            stance = "neutral" if empty else rng.choices(STANCES, [2, 2, 6])[0]
            yield {"id": f"a{article}-p{p:03d}", "article_id": f"a{article}", "paragraph_index": p, "outlet": outlet,
                   "date": day, "topics": topics, "topic_scores": scores, "stance": stance,
                   "stance_scores": {s: round(1 / 3, 5) for s in STANCES}, "no_content": empty}
            i += 1
        article += 1


def write_predictions(path: Path, n: int, seed: int = 0) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for row in synthetic_rows(n, seed):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


CHILD = """
import json, resource, sys, time, tracemalloc
from newsclf.report import build_report
trace = sys.argv[3] == "trace"
if trace:
    tracemalloc.start()
start = time.perf_counter()
summary = build_report(sys.argv[1], sys.argv[2], progress=False)
out = {"seconds": round(time.perf_counter() - start, 1), "rows": summary["rows"]}
if trace:
    out["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
else:
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""


def measure(path: Path, out_dir: Path, mode: str) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), str(out_dir), mode], capture_output=True,
                            text=True)
    if result.returncode:
        sys.exit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = p.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            start = time.perf_counter()
            path = write_predictions(Path(tmp) / f"pred-{n}.jsonl", n)
            rss = measure(path, Path(tmp) / f"out-{n}", "rss")
            traced = measure(path, Path(tmp) / f"out-{n}", "trace")
            results[n] = {"file_mb": round(path.stat().st_size / 2**20, 1), "max_rss_mb": rss["max_rss_mb"],
                          "seconds": rss["seconds"], "tracemalloc_peak_mb": traced["tracemalloc_peak_mb"],
                          "seconds_traced": traced["seconds"],
                          "total_seconds": round(time.perf_counter() - start, 1)}
            path.unlink()
    small, large = results[min(results)], results[max(results)]
    print(json.dumps({"rows": results, "rss_ratio": round(large["max_rss_mb"] / small["max_rss_mb"], 2),
                      "tracemalloc_ratio": round(large["tracemalloc_peak_mb"] / small["tracemalloc_peak_mb"], 2)},
                     indent=1))


if __name__ == "__main__":
    main()
