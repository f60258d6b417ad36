"""Peak memory of ``newsclf predict`` over 10,000 and 1,000,000 generated paragraphs.

The input is streamed and the output sharded, so the peak resident memory should not grow
with the input: the check passes when the large run's peak is within 1.5x of the small one's.
The model is the tiny test BERT with fresh heads (the model's size is not what is measured).

    python scripts/memory_check.py --small 10000 --large 1000000
"""
import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def write_input(path: Path, n: int) -> None:
    texts = [json.loads(line)["text"] for line in open(ROOT / "data" / "train.jsonl", encoding="utf-8")]
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"p{i}", "text": rng.choice(texts)}, ensure_ascii=False) + "\n")


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) of a command and its children, sampled every 50 ms, and its wall time."""
    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    if proc.returncode:
        sys.exit(proc.stderr.read().decode()[-2000:])
    return peak / 2**20, time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--small", type=int, default=10000)
    p.add_argument("--large", type=int, default=1000000)
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args()
    from newsclf.modeling import NewsClfModel
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = NewsClfModel.from_encoder(str(ROOT / "tests" / "fixtures" / "tiny-bert"), max_seq_length=128)
        model.save_pretrained(tmp / "model")
        AutoTokenizer.from_pretrained(ROOT / "tests" / "fixtures" / "tiny-bert").save_pretrained(tmp / "model")
        result = {}
        for name, n in (("small", args.small), ("large", args.large)):
            write_input(tmp / f"{name}.jsonl", n)
            cmd = [sys.executable, "-m", "newsclf.cli", "predict", str(tmp / f"{name}.jsonl"),
                   str(tmp / f"{name}-out.jsonl"), "--model", str(tmp / "model"),
                   "--batch-size", str(args.batch_size), "--precision", "fp32"]
            peak, seconds = peak_rss_mb(cmd)
            rows = sum(1 for _ in open(tmp / f"{name}-out.jsonl", encoding="utf-8"))
            assert rows == n, f"{rows} output rows for {n} inputs"
            result[name] = {"paragraphs": n, "peak_rss_mb": round(peak, 1), "seconds": round(seconds, 1)}
            print(f"{n:>9} paragraphs: peak RSS {peak:8.1f} MB, {seconds:7.1f} s, {rows} rows out", file=sys.stderr)
            (tmp / f"{name}.jsonl").unlink()
            (tmp / f"{name}-out.jsonl").unlink()
        result["ratio"] = round(result["large"]["peak_rss_mb"] / result["small"]["peak_rss_mb"], 3)
        result["pass"] = result["ratio"] <= 1.5
        print(json.dumps(result))


if __name__ == "__main__":
    main()
