import csv
import json

import pytest

from newsclf import Classifier
from newsclf.data import DataError
from newsclf.predict import predict_file

from conftest import DATA, read_jsonl


@pytest.fixture(scope="module")
def clf(trained_model):
    return Classifier.from_pretrained(trained_model, device="cpu")


def make_input(path, n):
    texts = [r["text"] for r in read_jsonl(DATA / "train.jsonl")]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"row-{i}", "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
    return path


def test_jsonl_and_csv_outputs_have_one_row_per_input_in_order(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 23)
    out = predict_file(clf, src, tmp_path / "out.jsonl", shard_size=5, progress=False)
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == [f"row-{i}" for i in range(23)]
    assert not (tmp_path / "out.jsonl.shards").exists()
    predict_file(clf, src, tmp_path / "out.csv", shard_size=5, progress=False)
    table = list(csv.DictReader(open(tmp_path / "out.csv", encoding="utf-8")))
    assert [r["id"] for r in table] == [r["id"] for r in rows]
    assert {"topic_military", "stance_neutral", "no_content"} <= set(table[0])
    assert float(table[3]["topic_military"]) == pytest.approx(rows[3]["topic_scores"]["military"], abs=1e-4)


class Dies:
    """A classifier that dies on its n-th call, like a job killed midway."""

    def __init__(self, clf, calls):
        self.clf, self.calls = clf, calls

    def __getattr__(self, name):  # config, backend, precision: those of the wrapped classifier
        return getattr(self.clf, name)

    def __call__(self, *args, **kwargs):
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt("killed")
        return self.clf(*args, **kwargs)


def test_a_killed_job_resumes_to_exactly_one_row_per_input(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 37)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        predict_file(Dies(clf, 3), src, out, shard_size=5, progress=False)
    shards = sorted(p.name for p in (tmp_path / "out.jsonl.shards").glob("part-*"))
    assert shards == ["part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl"]  # complete shards only
    with pytest.raises(FileExistsError, match="--resume"):
        predict_file(clf, src, out, shard_size=5, progress=False)
    counting = Dies(clf, 100)
    predict_file(counting, src, out, shard_size=5, resume=True, progress=False)
    assert 100 - counting.calls == 5  # only the 5 unfinished shards were classified
    ids = [r["id"] for r in read_jsonl(out)]
    assert ids == [f"row-{i}" for i in range(37)]


def test_a_folder_output_keeps_numbered_shards(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 12)
    out = predict_file(clf, src, tmp_path / "preds", shard_size=5, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["job.json", "part-00000.jsonl", "part-00001.jsonl",
                                                     "part-00002.jsonl"]


def test_processes_split_the_shards_between_them(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 12)
    for rank in (0, 1):
        predict_file(clf, src, tmp_path / "preds", shard_size=4, rank=rank, world_size=2, resume=True,
                     progress=False)
    rows = [r for p in sorted((tmp_path / "preds").glob("part-*")) for r in read_jsonl(p)]
    assert [r["id"] for r in rows] == [f"row-{i}" for i in range(12)]


def test_bad_rows_name_the_line(clf, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "نص"}\n{"id": "b", "text": 5}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"in.jsonl:2: field 'text' must be a string, got int"):
        predict_file(clf, src, tmp_path / "o.jsonl", progress=False)
    src.write_text('{"id": "a", "text": "نص"}\n{"id": "b", "text": " "}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"in.jsonl:2: field 'text' is empty"):
        predict_file(clf, src, tmp_path / "o2.jsonl", progress=False)
    predict_file(clf, src, tmp_path / "o3.jsonl", on_empty="none", progress=False)
    rows = read_jsonl(tmp_path / "o3.jsonl")
    assert [r["no_content"] for r in rows] == [False, True]
    with pytest.raises(ValueError, match="output format"):
        predict_file(clf, src, tmp_path / "o.xml", progress=False)
    with pytest.raises(ValueError, match="shard_size must be a positive int, got 0"):
        predict_file(clf, src, tmp_path / "o5.jsonl", shard_size=0, progress=False)


def test_resume_with_another_shard_size_is_refused_not_lossy(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 60)
    out = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        predict_file(Dies(clf, 2), src, out, shard_size=20, progress=False)
    with pytest.raises(ValueError, match="holds a different job .*shard_size: was 20, now 10000"):
        predict_file(clf, src, out, resume=True, progress=False)
    with pytest.raises(ValueError, match="on_empty: was 'raise', now 'none'"):
        predict_file(clf, src, out, shard_size=20, on_empty="none", resume=True, progress=False)
    predict_file(clf, src, out, shard_size=20, resume=True, progress=False)
    assert [r["id"] for r in read_jsonl(out)] == [f"row-{i}" for i in range(60)]


def test_resume_refuses_a_changed_input_and_shards_from_another_job(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 30)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        predict_file(Dies(clf, 1), src, out, shard_size=10, progress=False)
    make_input(src, 31)
    with pytest.raises(ValueError, match="input_fingerprint"):
        predict_file(clf, src, out, shard_size=10, resume=True, progress=False)
    (out / "job.json").unlink()
    with pytest.raises(ValueError, match="no job.json"):
        predict_file(clf, src, out, shard_size=10, resume=True, progress=False)


def test_a_shard_with_the_wrong_row_count_is_never_reported_as_success(clf, tmp_path):
    src = make_input(tmp_path / "in.jsonl", 30)
    out = tmp_path / "out"
    predict_file(clf, src, out, shard_size=10, progress=False)
    part = out / "part-00001.jsonl"
    part.write_text("".join(part.read_text().splitlines(keepends=True)[:4]))
    with pytest.raises(ValueError, match="part-00001.jsonl has 4 rows where the input has 10"):
        predict_file(clf, src, out, shard_size=10, resume=True, progress=False)


def test_invisible_only_rows_are_empty(clf, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "نص"}\n{"id": "b", "text": "\\u200f\\u00a0"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"in.jsonl:2: field 'text' is empty: no visible characters"):
        predict_file(clf, src, tmp_path / "o.jsonl", progress=False)
