import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsclf.data import (DataError, Record, cue_spans, has_cues, iter_texts, label_arrays, read_records,
                          target_arrays, write_records)

GOOD = {"id": "a-p00", "text": "نص الخبر", "topics": ["military"], "stance": "neutral", "doc_id": "a"}


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def test_reads_records_and_keeps_extra_fields(tmp_path):
    rows = [GOOD, {**GOOD, "id": "a-p01", "topics": ["displacement", "diplomatic"], "stance": "pro_opposition"}]
    records = read_records(write_jsonl(tmp_path / "d.jsonl", rows))
    assert [r.id for r in records] == ["a-p00", "a-p01"]
    assert records[1].topics == ("diplomatic", "displacement")  # put in label order
    assert records[0].meta == {"doc_id": "a"}
    topics, stance = label_arrays(records)
    assert topics.tolist() == [[1, 0, 0, 0], [0, 0, 1, 1]] and stance.tolist() == [2, 1]


@pytest.mark.parametrize("bad, field, message", [
    ("{not json", None, "not valid JSON"),
    ({**GOOD, "topics": ["sport"]}, "topics", "unknown topic 'sport'"),
    ({**GOOD, "stance": "pro_rebels"}, "stance", "unknown stance 'pro_rebels'"),
    ({k: v for k, v in GOOD.items() if k != "stance"}, "stance", "is missing"),
    ({**GOOD, "text": "   "}, "text", "non-empty"),
    ({**GOOD, "topics": "military"}, None, None),  # a bare string in JSON is read like a CSV cell
    ([1, 2], None, "expected a JSON object"),
])
def test_bad_lines_name_file_line_and_field(tmp_path, bad, field, message):
    path = write_jsonl(tmp_path / "d.jsonl", [{**GOOD, "id": "ok"}, bad])
    if message is None:
        assert read_records(path)[1].topics == ("military",)
        return
    with pytest.raises(DataError) as err:
        read_records(path)
    assert err.value.line == 2 and err.value.path == str(path) and err.value.field == field
    assert f"{path}:2:" in str(err.value) and message in str(err.value)


SOFT = {"topics": {"military": 0.9, "humanitarian": 0.2, "diplomatic": 0.0, "displacement": 1},
        "stance": {"pro_government": 0.1, "pro_opposition": 0.3, "neutral": 0.6}}


def test_soft_targets_replace_the_labels_of_the_records_that_carry_them(tmp_path):
    rows = [GOOD, {**GOOD, "id": "a-p01", "label_source": "pseudo", "soft": SOFT}]
    records = read_records(write_jsonl(tmp_path / "d.jsonl", rows))
    topic, stance = target_arrays(records)
    np.testing.assert_allclose(topic, [[1, 0, 0, 0], [0.9, 0.2, 0.0, 1.0]], atol=1e-6)
    np.testing.assert_allclose(stance, [[0, 0, 1], [0.1, 0.3, 0.6]], atol=1e-6)
    assert label_arrays(records)[1].tolist() == [2, 2]  # the hard labels stay what the line says


@pytest.mark.parametrize("soft, message", [
    ({"topics": SOFT["topics"]}, "must be {"),
    ({**SOFT, "topics": {"military": 0.9}}, "topics must give a probability for each of"),
    ({**SOFT, "topics": {**SOFT["topics"], "military": 1.5}}, "topics.military must be a probability"),
    ({**SOFT, "stance": {**SOFT["stance"], "neutral": "high"}}, "stance.neutral must be a probability"),
    ({**SOFT, "stance": {**SOFT["stance"], "neutral": 0.9}}, "stance probabilities sum to 1.3000"),
])
def test_bad_soft_targets_name_the_line(tmp_path, soft, message):
    path = write_jsonl(tmp_path / "d.jsonl", [GOOD, {**GOOD, "id": "a-p01", "soft": soft}])
    with pytest.raises(DataError) as err:
        read_records(path)
    assert err.value.line == 2 and err.value.field == "soft" and message in str(err.value)


CUE = {"text": "نظام الأسد", "side": "pro_opposition", "attributed": False}


def test_cues_are_kept_and_tagged_occurrence_by_occurrence(tmp_path):
    text = "قال الوزير إن نظام الأسد قصف المدينة، ثم انسحبت قوات نظام الأسد، ونظام الأسد يفاوض"
    quoted = {**CUE, "attributed": True}
    rows = [GOOD, {**GOOD, "id": "a-p01", "text": text, "stance": "pro_opposition", "cues": [quoted, CUE]},
            {**GOOD, "id": "a-p02", "cues": []}]
    records = read_records(write_jsonl(tmp_path / "d.jsonl", rows))
    assert [has_cues(r) for r in records] == [False, True, True]
    spans = cue_spans(records[1])
    assert [text[s:e] for s, e, _ in spans] == ["نظام الأسد"] * 3
    # the first occurrence is the quoted one; the repeats beyond the cues given take the last cue's tag
    assert [tag for *_, tag in spans] == ["attributed", "pro_opposition", "pro_opposition"]
    assert cue_spans(records[2]) == [] and cue_spans(Record("x", "نص", (), "neutral")) == []


@pytest.mark.parametrize("cues, field, message", [
    ("نظام الأسد", "cues", "must be a list of cues"),
    ([{"text": "نظام الأسد", "side": "pro_opposition"}], "cues[0]", "must be {"),
    ([CUE, {**CUE, "text": "الثوار"}], "cues[1].text", "'الثوار' does not occur"),
    ([{**CUE, "side": "neutral"}], "cues[0].side", "must be one of ['pro_government', 'pro_opposition']"),
    ([{**CUE, "attributed": "no"}], "cues[0].attributed", "must be true or false"),
])
def test_bad_cues_name_the_line_and_the_cue(tmp_path, cues, field, message):
    row = {**GOOD, "id": "a-p01", "text": "واصل نظام الأسد القصف", "cues": cues}
    path = write_jsonl(tmp_path / "d.jsonl", [GOOD, row])
    with pytest.raises(DataError) as err:
        read_records(path)
    assert err.value.line == 2 and err.value.field == field and message in str(err.value)


def test_repeated_id_and_empty_file_are_errors(tmp_path):
    with pytest.raises(DataError, match="repeats"):
        read_records(write_jsonl(tmp_path / "d.jsonl", [GOOD, GOOD]))
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no records"):
        read_records(tmp_path / "e.jsonl")
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path / "missing.jsonl")


def test_csv_topics_as_pipes_or_json(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('id,text,topics,stance\n1,نص,military|humanitarian,neutral\n2,نص,"[""diplomatic""]",neutral\n'
                    "3,نص,,pro_government\n4,نص,war,neutral\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_records(path)
    assert err.value.line == 5 and err.value.field == "topics"
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[:4]) + "\n", encoding="utf-8")
    assert [r.topics for r in read_records(path)] == [("military", "humanitarian"), ("diplomatic",), ()]


def test_write_then_read_round_trips(tmp_path):
    records = read_records(write_jsonl(tmp_path / "d.jsonl", [GOOD]))
    write_records(records, tmp_path / "out.jsonl")
    assert read_records(tmp_path / "out.jsonl") == records


def test_iter_texts_reads_every_format(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": "أ"}, {"text": "ب"}])
    (tmp_path / "in.txt").write_text("أ\n\nب\n", encoding="utf-8")
    (tmp_path / "in.csv").write_text("id,text\nx,أ\ny,ب\n", encoding="utf-8")
    pq.write_table(pa.table({"id": ["x", "y"], "text": ["أ", "ب"]}), tmp_path / "in.parquet")
    assert [(r.id, r.text) for r in iter_texts(tmp_path / "in.jsonl")] == [("x", "أ"), ("2", "ب")]
    assert [(r.id, r.text, r.line) for r in iter_texts(tmp_path / "in.txt")] == [("1", "أ", 1), ("3", "ب", 3)]
    assert [r.text for r in iter_texts(tmp_path / "in.csv")] == ["أ", "ب"]
    assert [(r.id, r.text) for r in iter_texts(tmp_path / "in.parquet")] == [("x", "أ"), ("y", "ب")]


@pytest.mark.parametrize("header, row", [("id,text", "a1,نص الفقرة"), ("text,id", "نص الفقرة,a1")])
def test_csv_with_a_byte_order_mark_reads_in_any_column_order(tmp_path, header, row):
    path = tmp_path / "excel.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8-sig")  # as Excel writes it
    rows = list(iter_texts(path))
    assert [(r.id, r.text) for r in rows] == [("a1", "نص الفقرة")]


def test_iter_texts_names_missing_text_field(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "body": "أ"}])
    with pytest.raises(DataError, match=r"in.jsonl:1: field 'text' is missing"):
        list(iter_texts(tmp_path / "in.jsonl"))
    pq.write_table(pa.table({"body": ["أ"]}), tmp_path / "in.parquet")
    with pytest.raises(DataError, match="field 'text' is not a column"):
        list(iter_texts(tmp_path / "in.parquet"))
    with pytest.raises(DataError, match="unsupported input format"):
        (tmp_path / "in.xml").write_text("<a/>")
        list(iter_texts(tmp_path / "in.xml"))


def test_the_project_dataset_loads_and_meets_its_minimums():
    from collections import Counter
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "data"
    splits = {s: read_records(root / f"{s}.jsonl") for s in ("train", "dev", "test")}
    records = [r for rs in splits.values() for r in rs]
    assert len(records) >= 3000
    topics = Counter(t for r in records for t in r.topics)
    assert min(topics.values()) >= 300 and sum(not r.topics for r in records) >= 300
    assert min(Counter(r.stance for r in records).values()) >= 350
    docs = {s: {r.meta["doc_id"] for r in rs} for s, rs in splits.items()}
    assert not (docs["train"] & docs["dev"] or docs["train"] & docs["test"] or docs["dev"] & docs["test"])
    assert 0.8 <= len(splits["train"]) / (len(splits["train"]) + len(splits["dev"])) <= 0.9  # later rounds: 9 to 1
    assert len(splits["test"]) == 424  # unchanged since rounds 1-2, so that scores stay comparable
