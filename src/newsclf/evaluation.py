"""Evaluating a model on a labelled file: a JSON report, a Markdown summary and PNG plots."""
from __future__ import annotations

import json
from pathlib import Path

from .data import Record, label_arrays, read_records
from .labels import STANCES, TOPICS
from .metrics import score_report
from .plots import confusion_matrix_figure, reliability_figure


def evaluate(classifier, records: list[Record], batch_size: int = 32, progress: bool = False) -> dict:
    """Scores of a :class:`~newsclf.Classifier` on labelled records (thresholds from the model)."""
    topic_probs, stance_probs = classifier.predict_proba([r.text for r in records], batch_size=batch_size,
                                                         progress=progress)
    topic_true, stance_true = label_arrays(records)
    report = score_report(topic_true, topic_probs, classifier.thresholds, stance_true, stance_probs)
    report["predictions"] = [{"id": r.id, "topic_scores": tp.round(4).tolist(), "stance_scores": sp.round(4).tolist()}
                             for r, tp, sp in zip(records, topic_probs, stance_probs)]
    return report


def evaluate_file(classifier, data_path: str | Path, out_dir: str | Path, batch_size: int = 32,
                  progress: bool = True) -> dict:
    """Evaluate and write ``report.json``, ``report.md``, ``confusion_matrix.png``, ``reliability.png``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = evaluate(classifier, read_records(data_path), batch_size=batch_size, progress=progress)
    report["data"] = str(data_path)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    (out_dir / "report.md").write_text(markdown_summary(report), encoding="utf-8")
    confusion_matrix_figure(report["stance"]["confusion_matrix"], out_dir / "confusion_matrix.png")
    reliability_figure({"topics (every paragraph x topic)": report["topics"]["reliability"],
                        "stance (top-class confidence)": report["stance"]["reliability"]},
                       out_dir / "reliability.png")
    return report


def markdown_summary(report: dict) -> str:
    """The report's scores as Markdown tables."""
    t, s = report["topics"], report["stance"]
    lines = [f"# Evaluation on `{report.get('data', '?')}` ({t['n']} paragraphs)", "",
             "## Topics (multi-label)", "", "| topic | precision | recall | F1 | support | threshold |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} | "
              f"{v['threshold']:.2f} |" for name, v in ((n, t["per_label"][n]) for n in TOPICS)]
    lines += ["", f"micro-F1 **{t['micro_f1']:.3f}**, macro-F1 **{t['macro_f1']:.3f}**, "
              f"subset accuracy {t['subset_accuracy']:.3f}, none-F1 {t['none_f1']:.3f}, ECE {t['ece']:.3f}", "",
              "## Stance", "", "| stance | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
              for name, v in ((n, s["per_label"][n]) for n in STANCES)]
    lines += ["", f"accuracy **{s['accuracy']:.3f}**, macro-F1 **{s['macro_f1']:.3f}**, ECE {s['ece']:.3f}", "",
              "Confusion matrix (rows true, columns predicted): " + ", ".join(STANCES), ""]
    return "\n".join(lines + confusion_table(s["confusion_matrix"])) + "\n"


def confusion_table(matrix) -> list[str]:
    """The stance confusion matrix as Markdown lines (rows true, columns predicted)."""
    return (["| | " + " | ".join(STANCES) + " |", "|---|" + "---|" * len(STANCES)]
            + [f"| {name} | " + " | ".join(str(c) for c in row) + " |" for name, row in zip(STANCES, matrix)])
