"""Self-training: the teacher's rules, which rows it keeps, the pseudo-label file, and training on it."""
import json

import numpy as np
import pytest

from conftest import DATA, read_jsonl
from newsclf.cli import main
from newsclf.data import DataError, read_records
from newsclf.self_training import Teacher, average, write_pseudo_labels
from newsclf.trainer import pseudo_records


def test_teacher_keeps_only_rows_far_from_every_threshold_and_sure_of_the_stance():
    teacher = Teacher(thresholds=[0.5, 0.5, 0.3, 0.5], stance_weights=[1.0, 1.0, 1.0])
    topic = np.array([[0.99, 0.01, 0.01, 0.01],    # sure: military only
                      [0.99, 0.55, 0.01, 0.01],    # humanitarian 0.55 is 0.2 log-odds from 0.5: unsure
                      [0.01, 0.01, 0.90, 0.01],    # diplomatic 0.9 vs 0.3: 3.0 log-odds, sure
                      [0.01, 0.01, 0.01, 0.01]])   # sure: no topic
    stance = np.array([[0.02, 0.03, 0.95], [0.02, 0.03, 0.95], [0.05, 0.05, 0.90], [0.5, 0.1, 0.4]])
    keep, topics, stances = teacher.label(topic, stance, topic_margin=2.0, stance_confidence=0.9)
    assert keep.tolist() == [True, False, True, False]  # row 4: stance 0.5 < 0.9
    assert topics == [("military",), ("military", "humanitarian"), ("diplomatic",), ()]
    assert stances == ["neutral", "neutral", "neutral", "pro_government"]


def test_stance_prior_weights_apply_before_the_confidence_test():
    stance = np.array([[0.3, 0.1, 0.6]])
    topic = np.full((1, 4), 0.01)
    keep, _, stances = Teacher([0.5] * 4, [1.0, 1.0, 1.0]).label(topic, stance, stance_confidence=0.55)
    assert keep.tolist() == [True] and stances == ["neutral"]
    keep, _, stances = Teacher([0.5] * 4, [4.0, 1.0, 1.0]).label(topic, stance, stance_confidence=0.55)
    assert stances == ["pro_government"] and keep.tolist() == [True]  # 1.2 / (1.2 + 0.1 + 0.6) = 0.63


def test_rules_are_tuned_on_dev_for_the_averaged_probabilities():
    rng = np.random.default_rng(0)
    y_topic = rng.integers(0, 2, (200, 4))
    y_stance = rng.integers(0, 3, 200)
    a = (np.clip(y_topic * 0.5 + 0.2 + rng.normal(0, 0.1, (200, 4)), 0, 1), np.eye(3)[y_stance] * 0.6 + 0.1)
    b = (np.clip(y_topic * 0.5 + 0.2 + rng.normal(0, 0.1, (200, 4)), 0, 1), np.full((200, 3), 1 / 3))
    topic, stance = average([a, b])
    np.testing.assert_allclose(topic, (a[0] + b[0]) / 2)
    np.testing.assert_allclose(stance, (a[1] + b[1]) / 2)
    teacher = Teacher.tuned(y_topic, y_stance, topic, stance)
    assert all(0.3 < t < 0.75 for t in teacher.thresholds)  # between the two clusters (0.2 and 0.7)
    assert teacher.stance_weights[-1] == 1.0
    with pytest.raises(ValueError, match="at least one"):
        average([])
    with pytest.raises(ValueError, match="topic_margin"):
        teacher.label(topic, stance, topic_margin=-1)


def test_pseudo_label_file_is_a_valid_record_file_and_training_refuses_gold_ids(tmp_path):
    from newsclf.data import InputRow

    rows = [InputRow("p1", "نص أول", 1, {"doc_id": "d1", "topics": "stale"}), InputRow("p2", "نص ثان", 2)]
    out = tmp_path / "pseudo.jsonl"
    summary = write_pseudo_labels(rows, np.array([True, False]), [("military",), ()], ["neutral", "neutral"], out,
                                  "teacher-x")
    assert summary["kept"] == 1 and summary["candidates"] == 2 and summary["topics"]["military"] == 1
    records = read_records(out)
    assert [(r.id, r.topics, r.stance) for r in records] == [("p1", ("military",), "neutral")]
    assert records[0].meta == {"doc_id": "d1", "label_source": "pseudo", "teacher": "teacher-x"}
    gold, held_out = read_records(DATA / "train.jsonl"), read_records(DATA / "dev.jsonl")
    assert pseudo_records(out, gold, held_out) == records
    clash = tmp_path / "clash.jsonl"
    for other in (gold[3], held_out[0]):
        clash.write_text(json.dumps({"id": other.id, "text": "x", "topics": [], "stance": "neutral"}) + "\n")
        with pytest.raises(DataError, match=r"clash.jsonl:1: field 'id'.*is also a gold record"):
            pseudo_records(clash, gold, held_out)
    dev_doc = held_out[0].meta["doc_id"]
    clash.write_text(json.dumps({"id": "new", "text": "x", "topics": [], "stance": "neutral",
                                 "doc_id": dev_doc}) + "\n")
    with pytest.raises(DataError, match=r"clash.jsonl:1: field 'doc_id'.*dev or test document"):
        pseudo_records(clash, gold, held_out)


def test_soft_targets_put_each_threshold_at_one_half_and_reweight_the_stance(tmp_path):
    from newsclf.data import InputRow, target_arrays

    teacher = Teacher(thresholds=[0.5, 0.2, 0.8, 0.5], stance_weights=[4.0, 1.0, 1.0])
    topic, stance = np.array([[0.5, 0.2, 0.8, 0.9]]), np.array([[0.3, 0.1, 0.6]])
    soft_topic, soft_stance = teacher.soft_targets(topic, stance)
    np.testing.assert_allclose(soft_topic, [[0.5, 0.5, 0.5, 0.9]], atol=1e-6)  # at its threshold: 0.5
    np.testing.assert_allclose(soft_stance, [[1.2 / 1.9, 0.1 / 1.9, 0.6 / 1.9]], atol=1e-6)
    out = tmp_path / "soft.jsonl"
    stance3 = np.array([[1 / 3, 1 / 3, 1 / 3]])  # rounds to 0.3333 x 3: the file must still sum to 1
    write_pseudo_labels([InputRow("p1", "نص", 1)], np.array([True]), [("displacement",)], ["neutral"], out, "t",
                        (soft_topic, stance3))
    [record] = read_records(out)
    assert sum(record.meta["soft"]["stance"].values()) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(target_arrays([record])[0], soft_topic, atol=1e-4)


def test_pseudolabel_command_averages_teachers_and_skips_labelled_ids(trained_model, tmp_path, capsys):
    pool = tmp_path / "pool.jsonl"
    rows = [r for split in ("train", "dev", "test") for r in read_jsonl(DATA / f"{split}.jsonl")]
    with open(pool, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "text": r["text"], "doc_id": r.get("doc_id")}, ensure_ascii=False)
                    + "\n")
    out = tmp_path / "pseudo.jsonl"
    args = ["pseudolabel", str(pool), str(out), "--model", str(trained_model), "--model", str(trained_model),
            "--dev", str(DATA / "dev.jsonl"), "--exclude", str(DATA / "train.jsonl"), "--topic-margin", "0",
            "--stance-confidence", "0", "--precision", "fp32"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-2])
    test_ids = [r["id"] for r in read_jsonl(DATA / "test.jsonl")]
    assert summary["candidates"] == summary["kept"] == len(test_ids)  # no margin: every candidate is kept
    records = read_records(out)
    assert [r.id for r in records] == test_ids
    assert all(r.meta["label_source"] == "pseudo" and "soft" not in r.meta for r in records)
    assert main([*args, "--soft"]) == 0
    capsys.readouterr()
    assert all(set(r.meta["soft"]) == {"topics", "stance"} for r in read_records(out))
    args[args.index("--stance-confidence") + 1] = "1.0"
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-2])["kept"] <= len(test_ids)
    assert main([*args, "--held-out", str(DATA / "test.jsonl")]) == 2  # every candidate is of a test document
    assert "no candidates left" in capsys.readouterr().err


def test_candidates_skip_labelled_ids_held_out_documents_and_empty_texts(tmp_path):
    from newsclf.data import unlabelled_candidates

    pool, held = tmp_path / "pool.jsonl", tmp_path / "dev.jsonl"
    lines = [{"id": "a", "text": "نص", "doc_id": "d1"}, {"id": "b", "text": "نص آخر", "doc_id": "d2"},
             {"id": "c", "text": " ", "doc_id": "d3"}, {"id": "d", "text": "نص ثالث", "doc_id": "d4"}]
    pool.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    held.write_text(json.dumps({"id": "x", "text": "t", "topics": [], "stance": "neutral", "doc_id": "d2"}) + "\n")
    labelled = tmp_path / "train.jsonl"
    labelled.write_text(json.dumps({"id": "d"}) + "\n")
    rows, skipped = unlabelled_candidates(pool, [labelled], held_out=[held])
    assert [r.id for r in rows] == ["a"]
    assert skipped == {"excluded": 1, "held_out_document": 1, "empty": 1}


def test_training_adds_the_pseudo_labelled_records(fresh_output, tmp_path, monkeypatch):
    import newsclf.trainer as trainer

    pseudo = tmp_path / "pseudo.jsonl"
    rows = [{**r, "id": f"pseudo-{i}", "doc_id": f"pseudo-doc-{i}", "label_source": "pseudo"}
            for i, r in enumerate(read_jsonl(DATA / "train.jsonl")[:7])]
    pseudo.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    fresh_output.data.pseudo_labels = pseudo
    seen = {}

    def stop(cfg, records, untaught_stance):  # record what training would learn from, then stop before the costly part
        seen["ids"], seen["untaught"] = [r.id for r in records], untaught_stance
        raise RuntimeError("stop")

    monkeypatch.setattr(trainer, "build_model", stop)
    with pytest.raises(RuntimeError, match="stop"):
        trainer.train(fresh_output)
    gold = [r.id for r in read_records(fresh_output.data.train)]
    assert seen["ids"] == gold + [r["id"] for r in rows]
    assert seen["untaught"] == frozenset()
    fresh_output.data.pseudo_label_stance = False  # topics only: every machine label's stance is left out
    with pytest.raises(RuntimeError, match="stop"):
        trainer.train(fresh_output)
    assert seen["ids"] == gold + [r["id"] for r in rows]
    assert seen["untaught"] == {r["id"] for r in rows}
