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


def test_metadata_passes_through_and_clashing_names_are_kept_as_input_fields(clf, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"r{i}", "text": "قصف على ريف إدلب اليوم", "outlet": "bbc",
                                         "stance": "neutral"}, ensure_ascii=False) for i in range(3)),
                   encoding="utf-8")
    row = read_jsonl(predict_file(clf, src, tmp_path / "o.jsonl", progress=False))[0]
    assert row["outlet"] == "bbc" and row["input_stance"] == "neutral" and "stance_scores" in row
    table = list(csv.DictReader(open(predict_file(clf, src, tmp_path / "o.csv", progress=False), encoding="utf-8")))
    assert list(table[0])[:3] == ["id", "outlet", "input_stance"]


def test_csv_output_refuses_a_field_the_first_row_lacks(clf, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "نص أول هنا"}) + "\n" +
                   json.dumps({"id": "b", "text": "نص ثان هنا", "url": "u"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"in.jsonl:2: field 'url' is not a field of the first row"):
        predict_file(clf, src, tmp_path / "o.csv", progress=False)


def test_parquet_output_has_one_score_column_per_label(clf, tmp_path):
    import pyarrow.parquet as pq

    src = make_input(tmp_path / "in.jsonl", 12)
    out = predict_file(clf, src, tmp_path / "o.parquet", shard_size=5, progress=False)
    table = pq.read_table(out).to_pylist()
    ref = read_jsonl(predict_file(clf, src, tmp_path / "o.jsonl", progress=False))
    assert [r["id"] for r in table] == [r["id"] for r in ref]
    assert table[4]["topic_military"] == pytest.approx(ref[4]["topic_scores"]["military"], abs=1e-6)
    assert table[4]["topics"] == ref[4]["topics"] and table[4]["stance"] == ref[4]["stance"]


def test_articles_mode_writes_a_row_per_paragraph_and_resumes(clf, tmp_path):
    article = "قصفت الطائرات الحربية مواقع في ريف إدلب الجنوبي صباح اليوم.\nوأعلنت الأمم المتحدة وصول قافلة مساعدات."
    src = tmp_path / "articles.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"a{i}", "text": article, "outlet": "cnn", "date": "2018-03-0" + str(i)},
                                        ensure_ascii=False) for i in range(1, 6)), encoding="utf-8")
    out = tmp_path / "paragraphs.jsonl"
    with pytest.raises(KeyboardInterrupt):
        predict_file(Dies(clf, 1), src, out, shard_size=2, articles=True, progress=False)
    with pytest.raises(ValueError, match="articles: was True, now False"):
        predict_file(clf, src, out, shard_size=2, resume=True, progress=False)
    rows = read_jsonl(predict_file(clf, src, out, shard_size=2, articles=True, resume=True, progress=False))
    expected = [(f"a{i}", k) for i in range(1, 6) for k in (0, 1)]
    assert [(r["article_id"], r["paragraph_index"]) for r in rows] == expected
    assert rows[3]["id"] == "a2-p001" and rows[3]["outlet"] == "cnn" and rows[3]["date"] == "2018-03-02"
