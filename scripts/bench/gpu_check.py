"""One command for a GPU machine: speed, accuracy per runtime path, training time and a 1M-paragraph run.

Each step runs as its own subprocess under a time limit, and its result (or its error) goes into
one JSON file, so a failing step never hides the others:

Time limits (s): benchmark 90, train 150, accuracy 45, predict 180: under 8 minutes in all.

- ``benchmark``: ``benchmark.py`` at e5-small and AraBERT-base sizes, newsclf bf16 against
  ``transformers.pipeline``: paragraphs/s, tokens/s, padding, peak memory; plus the fraction of
  the GPU's dense bf16 peak that the encoder's matrix products reach (``mfu``);
- ``accuracy``: ``precision_accuracy.py`` on the test split, torch fp32/bf16/fp16 on the GPU;
- ``train``: ``newsclf train configs/default.yaml`` for 5 epochs: seconds per epoch, dev scores;
- ``predict_1m``: ``newsclf predict`` over 1,000,000 synthetic paragraphs whose lengths follow the
  pool's: paragraphs/s and GPU utilisation sampled every second (``torch.cuda.utilization``, NVML).

    python scripts/bench/gpu_check.py --out runs/gpu_check.json          # on a CUDA machine, < 8 min
    python scripts/bench/gpu_check.py --dry-run --out /tmp/check.json     # any machine: tiny sizes, CPU

``--dry-run`` runs every step at toy size on the CPU (tiny model, tiny config, 500 paragraphs) so
that the plumbing is tested without a GPU.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench"
POOL = ROOT.parent / "shared" / "corpus" / "paragraphs.jsonl"
# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity), from the vendors' data sheets.
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100 SXM": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0,
                    "L40S": 362.0, "L4": 121.0, "A10": 125.0}
ENCODERS = {"e5-small": dict(layers=12, hidden=384), "arabert-base": dict(layers=12, hidden=768)}


def bf16_peak(device_name: str) -> float | None:
    """The data-sheet bf16 peak of a GPU named like ``NVIDIA H200``, or None when unknown."""
    for key, value in BF16_PEAK_TFLOPS.items():  # longest, most specific names first
        if key in device_name:
            return value
    return None


def encoder_flops_per_token(layers: int, hidden: int, seq: int) -> float:
    """Forward FLOPs per token of a BERT encoder: 24·L·h² for the linear layers, 4·L·h·seq for attention."""
    return 24 * layers * hidden**2 + 4 * layers * hidden * seq


def run_step(name: str, cmd: list[str], timeout: int) -> dict:
    """Run one step; its last stdout line is its JSON result. Errors and time-outs are recorded, not raised."""
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "seconds": timeout}
    seconds = round(time.perf_counter() - start, 1)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}",
                "seconds": seconds}
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    print(f"gpu_check: {name} done in {seconds} s", file=sys.stderr)
    return {"result": result, "seconds": seconds}


def synthetic_paragraphs(path: Path, n: int, seed: int = 0) -> None:
    """n paragraphs whose word counts follow the pool's, made of pool words (JSONL with id and text)."""
    source = POOL if POOL.exists() else ROOT / "tests" / "data" / "train.jsonl"
    texts = [json.loads(line)["text"] for line in open(source, encoding="utf-8")]
    lengths = [len(t.split()) for t in texts]
    words = [w for t in texts[:2000] for w in t.split()]
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            start = rng.randrange(len(words))
            text = " ".join(words[(start + k) % len(words)] for k in range(rng.choice(lengths)))
            f.write(json.dumps({"id": f"s{i:07d}", "text": text}, ensure_ascii=False) + "\n")


def gpu_utilisation(stop: threading.Event, samples: list) -> None:
    """Append the GPU's utilisation (%) every second until ``stop`` is set (nothing without CUDA/NVML)."""
    import torch

    while not stop.wait(1.0):
        try:
            samples.append(torch.cuda.utilization())
        except Exception:  # no CUDA, or no NVML: utilisation stays unknown
            return


def predict_step(in_path: Path, out_path: Path, model: str | None, dry_run: bool, timeout: int) -> dict:
    """``newsclf predict`` in a subprocess while this process samples the GPU's utilisation."""
    n = sum(1 for _ in open(in_path, encoding="utf-8"))
    cmd = [sys.executable, "-m", "newsclf.cli", "predict", str(in_path), str(out_path), "--batch-size", "128",
           *(["--model", model] if model else []), *(["--device", "cpu"] if dry_run else [])]
    samples: list = []
    stop = threading.Event()
    sampler = threading.Thread(target=gpu_utilisation, args=(stop, samples), daemon=True)
    sampler.start()
    step = run_step("predict_1m", cmd, timeout)
    stop.set()
    if "error" not in step:
        rows = sum(1 for _ in open(out_path, encoding="utf-8"))
        step["result"] = {"paragraphs": n, "rows_written": rows, "paragraphs_per_s": round(n / step["seconds"], 1),
                          "gpu_utilisation_mean": round(sum(samples) / len(samples), 1) if samples else None,
                          "gpu_utilisation_samples": len(samples)}
    return step


def add_mfu(benchmark: dict, device_name: str, seq: int) -> None:
    """Write each size's fraction of the GPU's bf16 peak (model FLOPs / peak) into the benchmark result."""
    peak = bf16_peak(device_name)
    for key, r in benchmark.get("results", {}).items():
        size = key.split("/")[0]
        if size in ENCODERS and peak:
            tflops = r["newsclf"]["tokens_per_s"] * encoder_flops_per_token(seq=seq, **ENCODERS[size]) / 1e12
            r["newsclf"]["model_tflops"] = round(tflops, 2)
            r["newsclf"]["mfu"] = round(tflops / peak, 4)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "runs" / "gpu_check.json"))
    p.add_argument("--dry-run", action="store_true", help="toy sizes on the CPU: tests the plumbing")
    p.add_argument("--workdir", default=str(ROOT / "runs" / "gpu_check"))
    p.add_argument("--paragraphs", type=int, help="for predict (default 1,000,000; 500 with --dry-run)")
    args = p.parse_args(argv)
    import torch

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device here; use --dry-run to test the script on the CPU")
    device = "cpu" if args.dry_run else "cuda"
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (dry run)"
    py = sys.executable
    report = {"device": name, "torch": torch.__version__, "cuda": torch.version.cuda, "dry_run": args.dry_run,
              "bf16_peak_tflops": bf16_peak(name)}
    sizes, n_bench = ("tiny", 48) if args.dry_run else ("e5-small,arabert-base", 4000)
    report["benchmark"] = run_step("benchmark", [
        py, str(BENCH / "benchmark.py"), "--device", device, "--n", str(n_bench), "--sizes", sizes,
        "--batch-size", "8" if args.dry_run else "128", "--precision", "fp32" if args.dry_run else "bf16",
        "--workdir", str(work / "benchmark")], timeout=90 if not args.dry_run else 150)
    add_mfu(report["benchmark"].get("result", {}), name, seq=128)
    config = ROOT / "configs" / ("tiny-test.yaml" if args.dry_run else "default.yaml")
    epochs = 2 if args.dry_run else 5
    train_dir = work / "train"
    shutil.rmtree(train_dir, ignore_errors=True)
    report["train"] = run_step("train", [py, "-m", "newsclf.cli", "train", str(config), "--set",
                                         f"training.epochs={epochs}", "--set", f"output.dir={train_dir}"],
                               timeout=150)
    if "error" not in report["train"]:
        log = [json.loads(line) for line in open(train_dir / "metrics.jsonl", encoding="utf-8")]
        report["train"]["result"] = {"epochs": epochs, "dev": log[-1],
                                     "seconds_per_epoch": round(report["train"]["seconds"] / epochs, 1)}
    # the dry run has no trained default model to check: it uses the model it just trained
    model = str(train_dir / "model") if args.dry_run else None
    data = ROOT / ("tests/data/test.jsonl" if args.dry_run else "data/test.jsonl")
    report["accuracy"] = run_step("accuracy", [
        py, str(BENCH / "precision_accuracy.py"), str(data), "--device", device, "--batch", "16",
        "--paths", "torch/fp32,torch/bf16" if args.dry_run else "torch/fp32,torch/bf16,torch/fp16",
        *(["--model", model] if model else [])], timeout=45 if not args.dry_run else 120)
    n = args.paragraphs or (500 if args.dry_run else 1_000_000)
    synthetic_paragraphs(work / "synthetic.jsonl", n)
    out = work / "synthetic-predictions.jsonl"
    out.unlink(missing_ok=True)
    report["predict_1m"] = predict_step(work / "synthetic.jsonl", out, model, args.dry_run, timeout=180)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
