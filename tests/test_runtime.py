import numpy as np
import pytest
import torch

from newsclf import Classifier
from newsclf.runtime import AMX_BLOCK_TOKENS, choose_runtime, cpu_flags, cpu_has_native_bf16, resolve_device

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]
CPU = torch.device("cpu")


def test_auto_follows_the_hardware(tmp_path):
    expected = ("torch", "bf16" if cpu_has_native_bf16() else "fp32")
    assert choose_runtime("auto", "auto", CPU, None) == expected
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model-int8.onnx").write_bytes(b"")
    assert choose_runtime("auto", "auto", CPU, tmp_path) == expected  # an export is used only when asked for
    assert choose_runtime("onnx", "auto", CPU, tmp_path) == ("onnx", "int8")
    assert choose_runtime("auto", "int8", CPU, tmp_path) == ("onnx", "int8")
    assert choose_runtime("torch", "fp32", CPU, tmp_path) == ("torch", "fp32")


def test_impossible_choices_say_what_is_allowed(tmp_path):
    with pytest.raises(FileNotFoundError, match="newsclf export MODEL --onnx"):
        choose_runtime("onnx", "fp32", CPU, tmp_path)
    with pytest.raises(ValueError, match="precision must be one of"):
        choose_runtime("auto", "int4", CPU, None)
    with pytest.raises(ValueError, match="backend must be one of"):
        choose_runtime("tensorrt", "auto", CPU, None)
    with pytest.raises(ValueError, match=r"backend 'torch' runs precision \('fp32', 'bf16', 'fp16'\), not 'int8'"):
        choose_runtime("torch", "int8", CPU, None)


def test_old_precision_names_still_work_with_a_warning(tmp_path):
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model-int8.onnx").write_bytes(b"")
    with pytest.warns(FutureWarning, match="backend='onnx', precision='int8'"):
        assert choose_runtime("auto", "onnx-int8", CPU, tmp_path) == ("onnx", "int8")


def test_unusable_devices_are_named_with_the_devices_there_are():
    assert resolve_device("cpu") == CPU
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"'cuda' is not available: CUDA is not available here; "
                                             r"available devices: \['cpu'\]"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="not a device name"):
        resolve_device("gpu")
    with pytest.raises(TypeError, match="device must be a str"):
        resolve_device(0.5)


def test_bf16_weights_give_nearly_the_fp32_probabilities(trained_model):
    fp32 = Classifier.from_pretrained(trained_model, precision="fp32").predict_proba(TEXTS[:8])
    bf16 = Classifier.from_pretrained(trained_model, precision="bf16").predict_proba(TEXTS[:8])
    assert np.abs(fp32[0] - bf16[0]).max() < 0.05


def test_reduced_precision_runs_in_blocks_on_amx_cpus_only(trained_model):
    for precision in ("fp32", "bf16"):
        runner = Classifier.from_pretrained(trained_model, device="cpu", backend="torch", precision=precision).runner
        amx = precision == "bf16" and "amx_bf16" in cpu_flags()
        assert runner.block_tokens == (AMX_BLOCK_TOKENS if amx else 0)


def test_blocks_have_a_shape_set_by_the_width_alone(trained_model):
    """oneDNN's AMX bf16 kernels sum in an order set by the number of rows: a window's scores must
    not depend on how many windows share its batch, so every block has the same number of rows."""
    clf = Classifier.from_pretrained(trained_model, device="cpu", backend="torch", precision="bf16")
    clf.runner.block_tokens = 1024  # as on an AMX CPU, whatever this one has
    shapes, forward = [], clf.runner.model.forward

    def recording(**inputs):
        shapes.append(tuple(inputs["input_ids"].shape))
        return forward(**inputs)

    clf.runner.model.forward = recording
    alone = np.concatenate(clf.predict_proba([TEXTS[0]], batch_size=1), axis=1)
    width = shapes[0][1]
    rows = 1024 // width
    assert shapes == [(rows, width)] and rows > 1
    for neighbours in (1, 2, rows, rows + 3):
        shapes.clear()
        together = np.concatenate(clf.predict_proba([TEXTS[0]] * (neighbours + 1), batch_size=64), axis=1)
        assert set(shapes) == {(rows, width)}
        assert np.array_equal(together, np.repeat(alone, neighbours + 1, axis=0))


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
