"""The Ray Data engine on a local Ray runtime (2 CPUs) gives newsclf predict's in-process output row for row."""
import json

import pytest

from newsclf import Classifier
from newsclf.cli import main
from newsclf.predict import predict_file

from conftest import DATA, read_jsonl

ray = pytest.importorskip("ray")
pq = pytest.importorskip("pyarrow.parquet")

N_ROWS = 300
SCORES = ("topic_military", "topic_humanitarian", "topic_diplomatic", "topic_displacement",
          "stance_pro_government", "stance_pro_opposition", "stance_neutral")


@pytest.fixture()
def local_ray():
    """A fresh local Ray of 2 CPUs per test, so that no actor of an earlier job holds a CPU."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory):
    texts = [r["text"] for r in read_jsonl(DATA / "train.jsonl")]
    path = tmp_path_factory.mktemp("ray") / "in.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(N_ROWS):
            f.write(json.dumps({"id": f"r{i:04d}", "text": texts[i % len(texts)], "outlet": ["bbc", "cnn"][i % 2]},
                               ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def in_process(trained_model, rows_file, tmp_path_factory):
    clf = Classifier.from_pretrained(trained_model, device="cpu", backend="torch", precision="fp32")
    out = predict_file(clf, rows_file, tmp_path_factory.mktemp("local") / "out.parquet", progress=False)
    return pq.read_table(out).to_pylist()


def assert_same_rows(got, expected):
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    for g, e in zip(got, expected):
        assert list(g["topics"]) == list(e["topics"]) and g["stance"] == e["stance"] and g["outlet"] == e["outlet"]
        assert [g[c] for c in SCORES] == pytest.approx([e[c] for c in SCORES], abs=1e-5)
        assert bool(g["no_content"]) == e["no_content"]


def test_the_map_batches_class_matches_in_process_predict(local_ray, trained_model, rows_file, in_process):
    from newsclf.integrations.ray import predict_dataset

    ds = predict_dataset(ray.data.read_json(str(rows_file)), str(trained_model), concurrency=2,
                         num_cpus_per_worker=0.5, rows_per_batch=64, backend="torch", precision="fp32", device="cpu")
    got = sorted(ds.take_all(), key=lambda r: r["id"])
    assert_same_rows(got, in_process)


def test_predict_engine_ray_writes_parquet_in_input_order_and_refuses_to_write_twice(
        local_ray, trained_model, rows_file, in_process, tmp_path, capsys):
    out = tmp_path / "preds"
    args = ["predict", str(rows_file), str(out), "--engine", "ray", "--model", str(trained_model), "--concurrency",
            "2", "--num-cpus-per-worker", "0.5", "--backend", "torch", "--precision", "fp32", "--device", "cpu"]
    assert main(args) == 0
    assert f"{N_ROWS} predictions written" in capsys.readouterr().out
    assert_same_rows(pq.read_table(out).to_pylist(), in_process)
    assert main(args) == 2
    assert "already holds output" in capsys.readouterr().err


@pytest.fixture()
def blank_row_file(tmp_path):
    rows = [{"id": "ok", "text": "نص عادي"}, {"id": "blank", "text": "  "}]
    src = tmp_path / "blank.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return src


def test_a_bad_row_stops_the_job_naming_its_id(local_ray, trained_model, blank_row_file, tmp_path):
    with pytest.raises(Exception, match="row id 'blank': field 'text' has no visible characters"):
        main(["--debug", "predict", str(blank_row_file), str(tmp_path / "o"), "--engine", "ray", "--model",
              str(trained_model), "--num-cpus-per-worker", "0.5"])


def test_on_empty_none_gives_a_no_content_row(local_ray, trained_model, blank_row_file, tmp_path):
    assert main(["predict", str(blank_row_file), str(tmp_path / "o"), "--engine", "ray", "--model",
                 str(trained_model), "--on-empty", "none", "--num-cpus-per-worker", "0.5"]) == 0
    rows = pq.read_table(tmp_path / "o").to_pylist()
    assert [(r["id"], r["no_content"]) for r in rows] == [("ok", False), ("blank", True)]


def test_options_that_do_not_apply_to_ray_are_refused(capsys):
    assert main(["predict", "in.jsonl", "out", "--engine", "ray", "--articles"]) == 2
    assert "--articles cannot be used with --engine ray" in capsys.readouterr().err
