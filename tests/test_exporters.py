import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

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


def test_outlier_ratios_cover_the_encoder_linear_layers_and_keep_the_mode(trained_model):
    from transformers import AutoTokenizer

    from newsclf.exporters.onnx import outlier_layers, outlier_ratios
    from newsclf.modeling import NewsClfModel

    model, tokenizer = NewsClfModel.from_pretrained(trained_model).train(), AutoTokenizer.from_pretrained(trained_model)
    ratios = outlier_ratios(model, tokenizer, TEXTS[:8])
    linear = {n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n.startswith("encoder.")}
    assert set(ratios) == linear and all(r >= 1 for r in ratios.values())  # a max is never below the RMS
    assert model.training
    middle = sorted(ratios.values())[len(ratios) // 2]
    assert outlier_layers(model, tokenizer, TEXTS[:8], ratio=middle) == sorted(n for n, r in ratios.items()
                                                                              if r > middle)
    assert outlier_layers(model, tokenizer, TEXTS[:8], ratio=0) == sorted(linear)
    assert outlier_layers(model, tokenizer, TEXTS[:8], ratio=float("inf")) == []


def test_int8_export_leaves_the_named_layers_unquantised(trained_model, tmp_path):
    import onnx

    from newsclf.exporters.onnx import export_onnx
    from newsclf.modeling import NewsClfModel

    model = NewsClfModel.from_pretrained(trained_model)
    kept = "encoder.encoder.layer.0.output.dense"
    export_onnx(model, tmp_path, int8=True, fp32_layers=[kept])
    ops = {n.name: n.op_type for n in onnx.load(str(tmp_path / "onnx" / "model-int8.onnx")).graph.node}
    assert ops["/model/encoder/encoder/layer.0/output/dense/MatMul"] == "MatMul"
    assert ops.get("/model/encoder/encoder/layer.0/intermediate/dense/MatMul") != "MatMul"  # quantised
    assert json.loads((tmp_path / "onnx" / "export.json").read_text())["int8_fp32_layers"] == [kept]
    with pytest.raises(ValueError, match=r"fp32_layers \['encoder.no_such.dense'\] have no MatMul node"):
        export_onnx(model, tmp_path, int8=True, fp32_layers=["encoder.no_such.dense"])


def test_cli_export_finds_the_outlier_layers_on_a_calibration_file(trained_model, tmp_path, capsys):
    folder = Path(shutil.copytree(trained_model, tmp_path / "model"))
    calibration = tmp_path / "calibration.txt"
    calibration.write_text("\n".join(TEXTS[:8]), encoding="utf-8")
    assert main(["export", str(folder), "--onnx", "--int8", "--calibration", str(calibration),
                 "--outlier-ratio", "0"]) == 0
    kept = json.loads((folder / "onnx" / "export.json").read_text())["int8_fp32_layers"]
    assert kept and all(name.startswith("encoder.") for name in kept)  # ratio 0: every encoder layer stays fp32
    assert "left in fp32 in the int8 graph (input max/RMS > 0)" in capsys.readouterr().out
    assert Classifier.from_pretrained(folder, backend="onnx", precision="int8")(TEXTS[0]).stance
