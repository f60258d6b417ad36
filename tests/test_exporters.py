import shutil
from pathlib import Path

import numpy as np
import pytest

from newsclf import Classifier
from newsclf.cli import main

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]


@pytest.fixture(scope="module")
def exported(trained_model, tmp_path_factory):
    folder = Path(shutil.copytree(trained_model, tmp_path_factory.mktemp("exp") / "model"))
    assert main(["export", str(folder), "--onnx", "--int8"]) == 0
    return folder


def test_onnx_paths_agree_with_pytorch(exported):
    torch_clf = Classifier.from_pretrained(exported, backend="torch", precision="fp32")
    reference = torch_clf.encode(TEXTS)
    for precision, tolerance in (("fp32", 1e-4), ("int8", 0.05)):
        clf = Classifier.from_pretrained(exported, backend="onnx", precision=precision)
        assert (clf.backend, clf.precision) == ("onnx", precision) and clf.model is None
        got = clf.encode(TEXTS)
        for ours, theirs in zip(got[:2], reference[:2]):
            assert np.abs(ours - theirs).max() < tolerance
    np.testing.assert_allclose(Classifier.from_pretrained(exported, backend="onnx", precision="fp32").embed(TEXTS),
                               reference[2], atol=1e-4)


def test_export_leaves_the_model_in_eval_mode(trained_model, tmp_path):
    from newsclf.exporters.onnx import export_onnx
    from newsclf.modeling import NewsClfModel

    model = NewsClfModel.from_pretrained(trained_model).eval()
    export_onnx(model, tmp_path)
    assert not any(m.training for m in model.modules())  # dropout stays off for what runs next


def test_export_writes_both_graphs_and_a_record(exported):
    assert {p.name for p in (exported / "onnx").iterdir()} == {"model.onnx", "model-int8.onnx", "export.json"}
    assert (exported / "onnx" / "model-int8.onnx").stat().st_size < (exported / "onnx" / "model.onnx").stat().st_size


@pytest.mark.parametrize("backend, precision, tolerance", [
    ("torch", "fp32", 1e-6), ("torch", "bf16", 1e-6), ("torch", "fp16", 1e-6), ("onnx", "fp32", 1e-6),
    ("onnx", "int8", 0)])
def test_a_paragraph_gets_the_same_result_alone_as_in_a_mixed_batch_of_64(exported, backend, precision, tolerance):
    clf = Classifier.from_pretrained(exported, device="cpu", backend=backend, precision=precision)
    texts = [TEXTS[i % len(TEXTS)] * (1 + i % 3) for i in range(64)]  # mixed lengths, some over one window
    batched = clf(texts, batch_size=64)
    for i in range(0, 64, 7):
        alone = clf(texts[i], batch_size=1)
        assert alone.topics == batched[i].topics and alone.stance == batched[i].stance
        for name in alone.topic_scores:
            assert abs(alone.topic_scores[name] - batched[i].topic_scores[name]) <= tolerance
        for name in alone.stance_scores:
            assert abs(alone.stance_scores[name] - batched[i].stance_scores[name]) <= tolerance
