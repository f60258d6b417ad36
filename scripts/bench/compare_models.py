"""Compare trained models the way model selection does: rules tuned on dev, then applied to test.

Each model classifies the dev and test splits on the inference path (preprocessing, windows,
aggregation; torch fp32 by default, no saved stance prior weights). Per model, and for the average of
all models' probabilities (``--average``), the topic thresholds and stance prior weights are tuned on
dev (``metrics.tuned_report``; its dev scores are optimistic in the same way for every model) and the
test split is scored with those rules. Each model's test scores get 95 % intervals, and every model
after the first the interval of its difference from the first on the same paragraphs (a paired bootstrap
over test documents, ``metrics.score_intervals``): a difference whose interval spans 0 is one the test
split cannot resolve. Probabilities are cached in ``--out`` with the splits' ids, so
adding a model reruns only that model, and a changed split reruns them all.

``floor`` as a model is the TF-IDF floor fitted on ``--train`` with the strengths tuned in
``data/baseline/report.json`` (``scripts/release/tfidf_baseline.py``). ``--ceiling`` also prints each model's
test scores with rules tuned on test itself: not a score, but how far decision rules alone could go.

    python scripts/bench/compare_models.py default runs/v9/model --names v8 v9 --average
    python scripts/bench/compare_models.py default floor --names v13 floor --average --ceiling
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from newsclf import Classifier
from newsclf.data import label_arrays, read_records
from newsclf.metrics import HEADLINE, headline_scores, reweight, score_intervals, score_report, tuned_report

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "release"))
from tfidf_baseline import floor_probabilities  # noqa: E402


def probabilities(model: str, splits: dict, cache: Path, precision: str, batch_size: int, train: str) -> dict:
    """``{split: (topic_probs, stance_probs)}`` for one model, from the cache when it holds these splits' ids."""
    if cache.exists():
        saved = np.load(cache)
        if all(f"{s}_ids" in saved and saved[f"{s}_ids"].tolist() == [r.id for r in records]
               for s, records in splits.items()):
            return {s: (saved[f"{s}_topic"], saved[f"{s}_stance"]) for s in splits}
        print(f"{cache}: cached for other splits, recomputing")
    if model == "floor":
        strengths = json.loads((ROOT / "data" / "baseline" / "report.json").read_text())
        out = floor_probabilities(read_records(train), splits, strengths["topic_C"], strengths["stance_C"])
    else:
        clf = Classifier.from_pretrained(None if model == "default" else model, device="cpu", backend="torch",
                                         precision=precision)
        clf.config.stance_prior_weights = None  # the rules are tuned here, as training tunes them
        out = {s: clf.predict_proba([r.text for r in records], batch_size=batch_size, progress=True)
               for s, records in splits.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **{f"{s}_{head}": p for s, (t, st) in out.items() for head, p in (("topic", t), ("stance", st))},
             **{f"{s}_ids": np.array([r.id for r in records]) for s, records in splits.items()})
    return out


def decided(probs: dict, rules: dict) -> tuple:
    """A model's test ``(topic_probs, thresholds, stance_probs)`` under its dev rules (``score_report``'s order)."""
    return probs["test"][0], rules["topic_thresholds"], reweight(probs["test"][1], rules["stance_prior_weights"])


def scores(truth: dict, probs: dict, documents: list[str], reference: tuple | None) -> dict:
    """Dev scores with rules tuned on dev, test scores with those rules and their intervals, and the
    interval of the test difference from ``reference`` (the first model's ``decided`` test outputs)."""
    dev = tuned_report(truth["dev"][0], probs["dev"][0], truth["dev"][1], probs["dev"][1])
    rules = dev["rules"]
    topic_probs, thresholds, stance_probs = decided(probs, rules)
    test = score_report(truth["test"][0], topic_probs, thresholds, truth["test"][1], stance_probs)
    result = {"dev": headline_scores(dev), "test": headline_scores(test), "rules": rules,
              "test_intervals": score_intervals(truth["test"][0], topic_probs, thresholds, truth["test"][1],
                                                stance_probs, groups=documents)}
    if reference is not None:
        result["test_difference_intervals"] = score_intervals(truth["test"][0], topic_probs, thresholds,
                                                              truth["test"][1], stance_probs, groups=documents,
                                                              baseline=reference)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="model folders, 'default' (the bundled model) or 'floor' (TF-IDF)")
    p.add_argument("--names", nargs="*", help="a short name per model (default: the folder's parent's name)")
    p.add_argument("--dev", default=str(ROOT / "data" / "dev.jsonl"))
    p.add_argument("--test", default=str(ROOT / "data" / "test.jsonl"))
    p.add_argument("--train", default=str(ROOT / "data" / "train.jsonl"), help="what the floor is fitted on")
    p.add_argument("--ceiling", action="store_true", help="also score test with rules tuned on test (a bound)")
    p.add_argument("--average", action="store_true", help="also score the average of all models' probabilities")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--out", default=str(ROOT / "runs" / "compare"))
    args = p.parse_args()
    names = args.names or [m if m in ("default", "floor") else Path(m).resolve().parent.name for m in args.models]
    if len(names) != len(args.models):
        raise SystemExit(f"--names gives {len(names)} names for {len(args.models)} models")
    splits = {"dev": read_records(args.dev), "test": read_records(args.test)}
    truth = {s: label_arrays(r) for s, r in splits.items()}
    probs = {n: probabilities(m, splits, Path(args.out) / f"{n}-{args.precision}.npz", args.precision,
                              args.batch_size, args.train) for n, m in zip(names, args.models)}
    if args.average and len(names) > 1:
        probs["+".join(names)] = {s: tuple(np.mean([probs[n][s][h] for n in names], 0) for h in (0, 1))
                                  for s in splits}
    documents = [r.document for r in splits["test"]]
    first, *others = probs
    results = {first: scores(truth, probs[first], documents, None)}
    reference = decided(probs[first], results[first]["rules"])
    results |= {n: scores(truth, probs[n], documents, reference) for n in others}
    print(f"| model | dev topic micro / macro / stance | test topic micro / macro / stance | test minus {first}, "
          "95 % interval |\n|---|---|---|---|")
    for n, r in results.items():
        cells = [" / ".join(f"{r[s][k]:.3f}" for k in HEADLINE) for s in ("dev", "test")]
        difference = " / ".join(f"[{lo:+.3f}, {hi:+.3f}]" for lo, hi in
                                (r["test_difference_intervals"][k] for k in HEADLINE)) if n != first else ""
        print(f"| {n} | {cells[0]} | {cells[1]} | {difference} |")
    print("test intervals (95 %, bootstrap over documents): " + "; ".join(
        f"{n} " + " / ".join(f"[{lo:.3f}, {hi:.3f}]" for lo, hi in (r["test_intervals"][k] for k in HEADLINE))
        for n, r in results.items()))
    if args.ceiling:
        for n, p in probs.items():
            bound = headline_scores(tuned_report(truth["test"][0], p["test"][0], truth["test"][1], p["test"][1]))
            results[n]["test_ceiling"] = bound
            print(f"{n}: test with rules tuned on test (a bound, not a score) "
                  + " / ".join(f"{bound[k]:.3f}" for k in HEADLINE))
    (Path(args.out) / "compare.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
