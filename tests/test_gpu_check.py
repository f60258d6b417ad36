"""scripts/bench/gpu_check.py's dry run (toy sizes on the CPU), so that the GPU check cannot rot."""
import json
import subprocess
import sys

from conftest import ROOT


def test_gpu_check_dry_run_runs_every_step_and_writes_one_json(tmp_path):
    script = ROOT / "scripts" / "bench" / "gpu_check.py"
    out = tmp_path / "check.json"
    done = subprocess.run([sys.executable, str(script), "--dry-run", "--out", str(out), "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["dry_run"] and report["device"] == "cpu (dry run)"
    for step in ("benchmark", "train", "accuracy", "predict_1m"):
        assert "error" not in report[step], (step, report[step])
    assert report["benchmark"]["result"]["speedup_vs_pipeline"]["tiny/cpu"] > 0
    assert report["train"]["result"]["epochs"] == 2 and report["train"]["result"]["seconds_per_epoch"] > 0
    assert set(report["accuracy"]["result"]) == {"torch/fp32", "torch/bf16"}
    predict = report["predict_1m"]["result"]
    assert predict["paragraphs"] == predict["rows_written"] == 500 and predict["paragraphs_per_s"] > 0
    assert predict["gpu_utilisation_mean"] is None  # no GPU: unknown, not zero


def test_model_flops_and_peaks():
    sys.path.insert(0, str(ROOT / "scripts" / "bench"))
    from gpu_check import bf16_peak, encoder_flops_per_token

    assert bf16_peak("NVIDIA H200") == 989.0 and bf16_peak("NVIDIA H100 PCIe") == 756.0
    assert bf16_peak("Tesla T4") is None
    assert encoder_flops_per_token(layers=1, hidden=2, seq=3) == 24 * 4 + 4 * 2 * 3
