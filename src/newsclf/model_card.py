"""A model card in Markdown, generated from a training run, its test report and the baseline."""
from __future__ import annotations

import json
from pathlib import Path

from .labels import STANCES, TOPICS

INTENDED_USE = """\
## Intended use and limits

- For media and conflict analysts, humanitarian monitors and researchers who need to sort
  Arabic news paragraphs about the Syrian war by what they report (topics) and by how the
  writer frames the conflict (stance).
- **Stance is about the writer's wording, not about the truth of the report.** A
  `pro_government` label says the paragraph adopts the government's frame (for example
  calling opponents «المسلحين» or «الإرهابيين» in the writer's own voice); it says nothing
  about whether the events happened, nor about the outlet as a whole. Quoted or attributed
  words are not the writer's framing (LABELS.md).
- Trained on 2017-2018 news from the ANT corpus and the Baly et al. corpus; wording of later
  periods, other dialects or social media may score lower.
- Paragraph-level: a paragraph is judged on its own text. Use `split_paragraphs` for articles.
- The training sample oversamples framed and rare-topic paragraphs; predicted label rates on
  real news are not prevalence estimates without calibration on a random sample.
- Not for decisions about individuals.
"""


def _scores_table(model: dict, baseline: dict | None) -> list[str]:
    rows = ["| label | precision | recall | F1 | baseline F1 | support |", "|---|---|---|---|---|---|"]
    for head, names in (("topics", TOPICS), ("stance", STANCES)):
        for name in names:
            m = model[head]["per_label"][name]
            b = f"{baseline[head]['per_label'][name]['f1']:.3f}" if baseline else "-"
            rows.append(f"| {head[:-1] if head == 'topics' else 'stance'}: {name} | {m['precision']:.3f} | "
                        f"{m['recall']:.3f} | {m['f1']:.3f} | {b} | {m['support']} |")
    rows += ["", "| summary | this model | TF-IDF baseline | difference |", "|---|---|---|---|"]
    for label, head, key in (("topic micro-F1", "topics", "micro_f1"), ("topic macro-F1", "topics", "macro_f1"),
                             ("topic subset accuracy", "topics", "subset_accuracy"),
                             ("stance macro-F1", "stance", "macro_f1"), ("stance accuracy", "stance", "accuracy")):
        ours = model[head][key]
        if baseline:
            rows.append(f"| {label} | {ours:.3f} | {baseline[head][key]:.3f} | {ours - baseline[head][key]:+.3f} |")
        else:
            rows.append(f"| {label} | {ours:.3f} | - | - |")
    return rows


def render_model_card(*, name: str, base_model: str, base_licence: str, config_yaml: str, test_report: dict,
                      baseline_report: dict | None, tries: list[dict], extra: str = "") -> str:
    """The card's Markdown. ``tries`` rows hold ``name``, ``change`` and dev scores."""
    t, s = test_report["topics"], test_report["stance"]
    thresholds = ", ".join(f"{n} {t['per_label'][n]['threshold']:.2f}" for n in TOPICS)
    lines = [f"# {name}", "",
             "Labels Arabic news paragraphs by **topic** (military, humanitarian, diplomatic, displacement; "
             "several or none) and **stance** (pro_government, pro_opposition, neutral framing of the Syrian war), "
             "as defined in LABELS.md.", "",
             "## Base model", "", base_model, "", f"Licence: {base_licence}", "",
             "## Data", "",
             "The project's annotated dataset (`data/`, card in `data/README.md`): 4,253 paragraphs from the ANT "
             "and Baly et al. corpora and two Shaam News Network articles, labelled by reading against LABELS.md, "
             "split by document into train (3,406), dev (423) and test (424). Research use with attribution, as the "
             "sources allow.", "",
             "## Training", "", "```yaml", config_yaml.strip(), "```", "",
             "## What was tried (dev split)", "",
             "| run | change | dev topic micro-F1 | dev topic macro-F1 | dev stance macro-F1 | kept |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['change']} | {r['topic_micro_f1']:.3f} | {r['topic_macro_f1']:.3f} | "
              f"{r['stance_macro_f1']:.3f} | {'yes' if r.get('kept') else ''} |" for r in tries]
    lines += ["", "## Test-split scores", "",
              f"On `data/test.jsonl` ({t['n']} paragraphs), thresholds tuned on dev "
              f"({thresholds}), "
              "beside the TF-IDF + logistic regression baseline of `scripts/tfidf_baseline.py`:", ""]
    lines += _scores_table(test_report, baseline_report)
    lines += ["", "Stance confusion matrix (rows true, columns predicted):", "",
              "| | " + " | ".join(STANCES) + " |", "|---|" + "---|" * len(STANCES)]
    lines += [f"| {n} | " + " | ".join(map(str, row)) + " |" for n, row in zip(STANCES, s["confusion_matrix"])]
    lines += ["", "## Calibration", "",
              f"Expected calibration error (10 equal-width bins): topics {t['ece']:.3f} (every paragraph x topic "
              f"probability), stance {s['ece']:.3f} (top-class confidence). Reliability diagrams: "
              "`reliability.png`; confusion matrix: `confusion_matrix.png`.", "", INTENDED_USE]
    if extra:
        lines += [extra]
    return "\n".join(lines) + "\n"


def dev_scores(run_dir: Path) -> dict:
    """The best epoch's dev scores of a run, by its selection metric, from ``metrics.jsonl``."""
    rows = [json.loads(line) for line in open(Path(run_dir) / "metrics.jsonl", encoding="utf-8")]
    best = max(rows, key=lambda r: r["eval_score"])
    return {"topic_micro_f1": best["eval_topic_micro_f1"], "topic_macro_f1": best["eval_topic_macro_f1"],
            "stance_macro_f1": best["eval_stance_macro_f1"], "epoch": best["epoch"]}
