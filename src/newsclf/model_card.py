"""The model card (``model/README.md``), written by training from the run itself.

It holds the base model, the resolved config, each evaluation's dev scores, the tuned
thresholds, and, where the config names a test split, the test report (beside a baseline's,
where one is given). Prose that belongs to one model (intended use, limits, how it was made)
comes in as ``intro`` and ``extra`` Markdown; the bundled model keeps its own beside its files.
"""
from __future__ import annotations

import json
from pathlib import Path

from .evaluation import confusion_table, interval_lines
from .labels import STANCES, TOPICS

SUMMARY_SCORES = (("topic micro-F1", "topics", "micro_f1"), ("topic macro-F1", "topics", "macro_f1"),
                  ("topic subset accuracy", "topics", "subset_accuracy"), ("stance macro-F1", "stance", "macro_f1"),
                  ("stance accuracy", "stance", "accuracy"))


def scores_table(report: dict, baseline: dict | None = None, baseline_name: str = "baseline") -> list[str]:
    """Per-label precision/recall/F1 (baseline F1 beside) and the summary scores, as Markdown lines."""
    rows = [f"| label | precision | recall | F1 | {baseline_name} F1 | support |", "|---|---|---|---|---|---|"]
    for head, names, kind in (("topics", TOPICS, "topic"), ("stance", STANCES, "stance")):
        for name in names:
            m = report[head]["per_label"][name]
            b = f"{baseline[head]['per_label'][name]['f1']:.3f}" if baseline else "-"
            rows.append(f"| {kind}: {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {b} | "
                        f"{m['support']} |")
    rows += ["", f"| summary | this model | {baseline_name} | difference |", "|---|---|---|---|"]
    for label, head, key in SUMMARY_SCORES:
        ours = report[head][key]
        theirs = f"{baseline[head][key]:.3f} | {ours - baseline[head][key]:+.3f}" if baseline else "- | -"
        rows.append(f"| {label} | {ours:.3f} | {theirs} |")
    return rows


def render_model_card(*, name: str, base_model: str, config_yaml: str, thresholds, epochs: list[dict],
                      stance_weights=None,
                      test_report: dict | None = None, baseline_report: dict | None = None,
                      baseline_name: str = "baseline", intro: str = "", extra: str = "") -> str:
    """The card's Markdown. ``epochs`` are the rows of the run's ``metrics.jsonl``."""
    lines = [f"# {name}", "",
             "Labels Arabic news paragraphs by **topic** (military, humanitarian, diplomatic, displacement; "
             "several or none) and **stance** (pro_government, pro_opposition, neutral framing of the Syrian war), "
             "as defined in LABELS.md (`newsclf labels`).", ""]
    if intro:
        lines += [intro.strip(), ""]
    lines += ["## Base model", "", base_model, "", "## Training config", "", "```yaml", config_yaml.strip(), "```",
              "", "## Dev scores during training", "",
              "As logged at each evaluation, with the decision rules (topic thresholds, and stance prior weights "
              "for runs made with newsclf 0.2 or later) tuned on dev; `score` is the mean of topic macro-F1 and "
              "stance macro-F1.", "",
              "| epoch | step | train loss | topic micro-F1 | topic macro-F1 | stance macro-F1 | score |",
              "|---|---|---|---|---|---|---|"]
    for r in epochs:
        loss = f"{r['train_loss']:.3f}" if r.get("train_loss") is not None else "-"
        lines.append(f"| {round(r['epoch'], 2):g} | {r['step']} | {loss} | {r['eval_topic_micro_f1']:.3f} | "
                     f"{r['eval_topic_macro_f1']:.3f} | {r['eval_stance_macro_f1']:.3f} | {r['eval_score']:.3f} |")
    lines += ["", "Decision rules, tuned on dev through the inference path: topic thresholds "
              + ", ".join(f"{t} {th:.2f}" for t, th in zip(TOPICS, thresholds))
              + ("; stance prior weights " + ", ".join(f"{s} {w:g}" for s, w in zip(STANCES, stance_weights))
                 + " (each stance probability times its weight, renormalised)" if stance_weights else ""), ""]
    if test_report:
        t, s = test_report["topics"], test_report["stance"]
        lines += ["## Test-split scores", "", f"On `{Path(test_report.get('data', 'test')).name}` ({t['n']} "
                  "paragraphs), scored once after training:", ""]
        lines += scores_table(test_report, baseline_report, baseline_name) + interval_lines(test_report)
        lines += ["", "Stance confusion matrix (rows true, columns predicted):", "",
                  *confusion_table(s["confusion_matrix"]), "", "## Calibration", "",
                  f"Expected calibration error (10 equal-width bins): topics {t['ece']:.3f} (every paragraph x topic "
                  f"probability), stance {s['ece']:.3f} (top-class confidence).", ""]
    if extra:
        lines += [extra.strip(), ""]
    return "\n".join(lines)


def read_epochs(run_dir: str | Path) -> list[dict]:
    """The rows of a run's ``metrics.jsonl`` (one per evaluation)."""
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()] if path.is_file() else []


def dev_scores(run_dir: str | Path) -> dict:
    """The best evaluation's dev scores of a run, by its selection score."""
    best = max(read_epochs(run_dir), key=lambda r: r["eval_score"])
    return {"topic_micro_f1": best["eval_topic_micro_f1"], "topic_macro_f1": best["eval_topic_macro_f1"],
            "stance_macro_f1": best["eval_stance_macro_f1"], "epoch": best["epoch"]}
