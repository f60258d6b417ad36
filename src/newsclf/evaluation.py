"""Evaluating a model on a labelled file: a JSON report (with bootstrap intervals over documents), a Markdown
summary and PNG plots."""
from __future__ import annotations

import json
from pathlib import Path

from .data import Record, label_arrays, read_records
from .labels import STANCES, TOPICS
from .metrics import HEADLINE, score_intervals, score_report
from .plots import confusion_matrix_figure, reliability_figure


def evaluate(classifier, records: list[Record], batch_size: int = 32, progress: bool = False,
             resamples: int = 1000) -> dict:
    """Scores of a :class:`~newsclf.Classifier` on labelled records (thresholds from the model), with 95 %
    intervals of the headline scores from ``resamples`` bootstrap draws of whole documents (0: none)."""
    topic_probs, stance_probs = classifier.predict_proba([r.text for r in records], batch_size=batch_size,
                                                         progress=progress)
    topic_true, stance_true = label_arrays(records)
    report = score_report(topic_true, topic_probs, classifier.thresholds, stance_true, stance_probs)
    if resamples:
        documents = [r.document for r in records]
        report["intervals"] = {"confidence": 0.95, "resamples": resamples, "documents": len(set(documents)),
                               **score_intervals(topic_true, topic_probs, classifier.thresholds, stance_true,
                                                 stance_probs, groups=documents, n_resamples=resamples)}
    report["predictions"] = [{"id": r.id, "topic_scores": tp.round(4).tolist(), "stance_scores": sp.round(4).tolist()}
                             for r, tp, sp in zip(records, topic_probs, stance_probs)]
    return report


def evaluate_file(classifier, data_path: str | Path, out_dir: str | Path, batch_size: int = 32,
                  progress: bool = True, resamples: int = 1000) -> dict:
    """Evaluate and write ``report.json``, ``report.md``, ``confusion_matrix.png``, ``reliability.png``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = evaluate(classifier, read_records(data_path), batch_size=batch_size, progress=progress,
                      resamples=resamples)
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
    return "\n".join(lines + confusion_table(s["confusion_matrix"]) + interval_lines(report)) + "\n"


def interval_lines(report: dict) -> list[str]:
    """The headline scores' bootstrap intervals as a Markdown paragraph (none when the report has none)."""
    if "intervals" not in report:
        return []
    i = report["intervals"]
    ranges = ", ".join(f"{key.replace('_f1', '-F1').replace('_', ' ')} [{i[key][0]:.3f}, {i[key][1]:.3f}]"
                       for key in HEADLINE)
    return ["", f"95 % intervals ({i['resamples']} bootstrap draws of the {i['documents']} documents, whole "
            f"documents at a time): {ranges}. Differences between models smaller than these ranges need a paired "
            "comparison on the same paragraphs (`newsclf.metrics.score_intervals` with `baseline`)."]


def confusion_table(matrix) -> list[str]:
    """The stance confusion matrix as Markdown lines (rows true, columns predicted)."""
    return (["| | " + " | ".join(STANCES) + " |", "|---|" + "---|" * len(STANCES)]
            + [f"| {name} | " + " | ".join(str(c) for c in row) + " |" for name, row in zip(STANCES, matrix)])
