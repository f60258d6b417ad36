"""Learning curve: dev scores of training runs made on shares of train, beside the TF-IDF floor
fitted on the same shares (the same documents: both use ``newsclf.trainer.train_subset``).

Each ``--run FRACTION RUN_DIR`` is a finished ``newsclf train`` run made with
``--data.train_fraction FRACTION``; the floor is fitted here. Both sides are scored on dev the
same way: through their inference path, with the decision rules (topic thresholds, stance prior
weights) tuned on dev. Writes ``curve.json`` and ``learning_curve.png`` into ``--out``. Each point's
scores are kept in ``--out`` (the floor's report, ``model-<fraction>.json`` naming its run), so a point
scored once, say while a longer run still trains, is not scored again.

    newsclf train configs/default.yaml --data.train_fraction 0.25 --output.dir ../runs/curve/m25
    python scripts/bench/learning_curve.py data --run 0.25 runs/curve/m25 --run 0.5 runs/curve/m50 \
        --run 1.0 runs/default --out runs/curve --note 1.0 "the shipped model"
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from newsclf import Classifier  # noqa: E402
from newsclf.data import label_arrays, read_records  # noqa: E402
from newsclf.metrics import headline_scores, tuned_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCORES = (("topic_micro_f1", "topic micro-F1"), ("topic_macro_f1", "topic macro-F1"),
          ("stance_macro_f1", "stance macro-F1"))


def model_dev_scores(model_dir: Path, dev_path: Path) -> dict:
    records = read_records(dev_path)
    clf = Classifier.from_pretrained(model_dir, device="cpu")
    clf.config.stance_prior_weights = None  # the rules are tuned here, the same way for every point
    topic_probs, stance_probs = clf.predict_proba([r.text for r in records], batch_size=64)
    topic_true, stance_true = label_arrays(records)
    report = tuned_report(topic_true, topic_probs, stance_true, stance_probs)
    return headline_scores(report)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir")
    p.add_argument("--run", nargs=2, action="append", metavar=("FRACTION", "RUN_DIR"), required=True)
    p.add_argument("--seed", type=int, default=42, help="the runs' training.seed")
    p.add_argument("--out", required=True)
    p.add_argument("--note", nargs=2, action="append", default=[], metavar=("FRACTION", "TEXT"),
                   help="what a point's run was, for the model card's notes under the table")
    args = p.parse_args()
    notes = {float(fraction): text for fraction, text in args.note}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    points = []
    for fraction, run in sorted(args.run, key=lambda r: float(r[0])):
        floor_dir = out / f"tfidf-{float(fraction):g}"
        if not (floor_dir / "report.json").is_file():
            subprocess.run([sys.executable, str(ROOT / "scripts" / "release" / "tfidf_baseline.py"), args.data_dir,
                            "--train-fraction", fraction, "--seed", str(args.seed), "--out", str(floor_dir)],
                           check=True)
        floor = json.loads((floor_dir / "report.json").read_text())
        kept = out / f"model-{float(fraction):g}.json"
        model = json.loads(kept.read_text()) if kept.is_file() else {}
        if model.get("run") != str(Path(run).resolve()):
            model = {"run": str(Path(run).resolve()),
                     "scores": model_dev_scores(Path(run) / "model", Path(args.data_dir) / "dev.jsonl")}
            kept.write_text(json.dumps(model, indent=1))
        points.append({"fraction": float(fraction), "paragraphs": floor["train_paragraphs"], "run": run,
                       "model": model["scores"], "tfidf": floor["dev"],
                       **({"note": notes[float(fraction)]} if float(fraction) in notes else {})})
    (out / "curve.json").write_text(json.dumps(points, indent=1))
    fig, axes = plt.subplots(1, len(SCORES), figsize=(12, 3.6), sharey=True)
    for ax, (key, title) in zip(axes, SCORES):
        x = [p["paragraphs"] for p in points]
        ax.plot(x, [p["model"][key] for p in points], "o-", label="newsclf (e5-small, fine-tuned)")
        ax.plot(x, [p["tfidf"][key] for p in points], "s--", label="TF-IDF + logistic regression")
        ax.set_title(title)
        ax.set_xscale("log", base=2)  # a learning curve gains about the same per doubling of the data
        ax.set_xticks(x, [f"{n:,}\n({p['fraction']:.0%})" for n, p in zip(x, points)])
        ax.minorticks_off()
        ax.set_xlabel("train paragraphs (log scale)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("dev score")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=120)
    print(json.dumps(points, indent=1))


if __name__ == "__main__":
    main()
