import json

from newsclf import Classifier
from newsclf.evaluation import evaluate_file
from newsclf.metrics import headline_scores

from conftest import DATA


def test_evaluate_writes_report_summary_and_plots(trained_model, tmp_path):
    clf = Classifier.from_pretrained(trained_model, device="cpu")
    report = evaluate_file(clf, DATA / "test.jsonl", tmp_path, progress=False)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["topics"]["micro_f1"] == report["topics"]["micro_f1"]
    assert set(saved["topics"]["per_label"]) == {"military", "humanitarian", "diplomatic", "displacement"}
    assert {"micro_f1", "macro_f1", "subset_accuracy", "ece"} <= set(saved["topics"])
    assert {"accuracy", "macro_f1", "confusion_matrix", "ece"} <= set(saved["stance"])
    assert sum(map(sum, saved["stance"]["confusion_matrix"])) == 40 == len(saved["predictions"])
    md = (tmp_path / "report.md").read_text()
    assert "micro-F1" in md and "| pro_government |" in md
    intervals = saved["intervals"]
    assert intervals["resamples"] == 1000 and intervals["documents"] == 39  # two of the 40 paragraphs share one
    for key, point in headline_scores(saved).items():
        assert intervals[key][0] <= point <= intervals[key][1]
    assert "95 % intervals (1000 bootstrap draws of the 39 documents" in md
    for png in ("confusion_matrix.png", "reliability.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_intervals_can_be_left_out(trained_model, tmp_path):
    clf = Classifier.from_pretrained(trained_model, device="cpu")
    report = evaluate_file(clf, DATA / "test.jsonl", tmp_path, progress=False, resamples=0)
    assert "intervals" not in report and "95 %" not in (tmp_path / "report.md").read_text()
