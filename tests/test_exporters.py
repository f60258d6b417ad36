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
    reference = Classifier.from_pretrained(exported, precision="fp32").predict_proba(TEXTS)
    for precision, tolerance in (("onnx", 1e-4), ("onnx-int8", 0.05)):
        clf = Classifier.from_pretrained(exported, precision=precision)
        assert clf.precision == precision and clf.model is None
        got = clf.predict_proba(TEXTS)
        assert np.abs(got[0] - reference[0]).max() < tolerance
        assert np.abs(got[1] - reference[1]).max() < tolerance


def test_export_leaves_the_model_in_eval_mode(trained_model, tmp_path):
    from newsclf.exporters.onnx import export_onnx
    from newsclf.modeling import NewsClfModel

    model = NewsClfModel.from_pretrained(trained_model).eval()
    export_onnx(model, tmp_path)
    assert not any(m.training for m in model.modules())  # dropout stays off for what runs next


def test_export_writes_both_graphs_and_a_record(exported):
    assert {p.name for p in (exported / "onnx").iterdir()} == {"model.onnx", "model-int8.onnx", "export.json"}
    assert (exported / "onnx" / "model-int8.onnx").stat().st_size < (exported / "onnx" / "model.onnx").stat().st_size
