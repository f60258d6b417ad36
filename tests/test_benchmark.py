"""scripts/bench/benchmark.py at toy size, so that it cannot rot."""
import json
import subprocess
import sys

from conftest import ROOT


def test_benchmark_runs_and_ends_with_one_json_line(tmp_path):
    script = ROOT / "scripts" / "bench" / "benchmark.py"
    out = subprocess.run([sys.executable, str(script), "--device", "cpu", "--n", "24",
                          "--sizes", "tiny", "--batch-size", "8", "--workdir", str(tmp_path)],
                         capture_output=True, text=True, check=True, timeout=300)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = summary["speedup_vs_pipeline"]["tiny/cpu"]
    assert ratio > 0
    for side in ("pipeline", "newsclf"):
        r = summary["results"]["tiny/cpu"][side]
        assert r["paragraphs_per_s"] > 0 and r["tokens_per_s"] > 0 and 0 <= r["padding_waste"] < 1
    assert "para/s" in out.stderr and "padding" in out.stderr
