import numpy as np
import pytest
import torch

from newsclf import Classifier
from newsclf.runtime import choose_precision, cpu_has_native_bf16, pad_windows

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]
CPU = torch.device("cpu")


def test_auto_precision_follows_the_hardware_and_the_exports(tmp_path):
    expected = "bf16" if cpu_has_native_bf16() else "fp32"
    assert choose_precision("auto", CPU, None) == expected
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model-int8.onnx").write_bytes(b"")
    assert choose_precision("auto", CPU, tmp_path) == ("bf16" if cpu_has_native_bf16() else "onnx-int8")
    assert choose_precision("fp32", CPU, tmp_path) == "fp32"
    with pytest.raises(FileNotFoundError, match="newsclf export MODEL --onnx"):
        choose_precision("onnx", CPU, tmp_path)
    with pytest.raises(ValueError, match="precision must be one of"):
        choose_precision("int4", CPU, None)


def test_pad_windows_right_pads_with_a_mask():
    ids, mask = pad_windows([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_bf16_weights_give_nearly_the_fp32_probabilities(trained_model):
    fp32 = Classifier.from_pretrained(trained_model, precision="fp32").predict_proba(TEXTS[:8])
    bf16 = Classifier.from_pretrained(trained_model, precision="bf16").predict_proba(TEXTS[:8])
    assert np.abs(fp32[0] - bf16[0]).max() < 0.05


def test_cuda_out_of_memory_halves_the_batch(trained_model, monkeypatch):
    clf = Classifier.from_pretrained(trained_model, precision="fp32")
    reference = clf.predict_proba(TEXTS[:16], batch_size=16)
    real, sizes = clf.runner.__call__, []

    def small_memory(inputs):
        sizes.append(len(inputs["input_ids"]))
        if len(inputs["input_ids"]) > 4:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(inputs)

    monkeypatch.setattr(clf, "runner", type("R", (), {"__call__": staticmethod(small_memory),
                                                      "prepare": clf.runner.prepare})())
    got = clf.predict_proba(TEXTS[:16], batch_size=16)
    assert max(s for s in sizes if s <= 4) == 4 and np.allclose(got[0], reference[0], atol=1e-5)
