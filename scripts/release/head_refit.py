"""Last-layer refit: a model's stance or topic head fitted again on its own pooled features, scored on dev and test.

The heads are linear maps of the standardised mean-pooled encoder output, trained jointly with the
encoder under class weights. This fits L2-regularised logistic regression on the train split's
pooled vectors (the model's own standardisation, no class weights; multinomial for stance, one
binary fit per topic for ``--head topic``) and mixes its logits with the old head's:
``mix * new + (1 - mix) * old`` is again one linear head, so a kept mix ships as the same
architecture. Decision rules (topic thresholds, stance prior weights) are
tuned on dev for every row and applied to test, as ``compare_models.py`` does. Scores here come
from each paragraph's window-averaged pooled vector, not from the window-by-window inference path
(score a saved refit with ``compare_models.py``). The pooled vectors are cached with a fingerprint
of the encoder's weights, so a refit model (same encoder, other heads) reuses them.

    python scripts/release/head_refit.py [--model DIR] [--head stance|topic] [--cs 0.001,0.01] [--mixes 0.5,1]

``--save RUN`` writes one refit (a single ``--cs`` and ``--mixes`` value) as a run folder that
``make_default_model.py`` ships: ``RUN/model`` with the mixed head, decision rules tuned on dev on the
inference path (``newsclf.trainer.tune_decision_rules``), tokenizer and training config, and the
model's training log as ``RUN/metrics.jsonl``:

    python scripts/release/head_refit.py --cs 0.001 --mixes 0.5 --save runs/v12-refit
"""
import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from newsclf import Classifier
from newsclf.bundled import PACKAGE_DIR
from newsclf.data import label_arrays, read_records
from newsclf.metrics import headline_scores, reweight, score_report, tuned_report
from newsclf.trainer import tune_decision_rules

ROOT = Path(__file__).resolve().parents[2]
SPLITS = ("train", "dev", "test")


def encoder_fingerprint(model) -> str:
    """Hash of the encoder's weights: the pooled vectors depend on them alone, not on the heads."""
    digest = hashlib.sha1()
    for name, tensor in sorted(model.encoder.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def pooled_vectors(clf: Classifier, cache: Path) -> dict:
    """``{split: pooled vectors}``, from the cache when it was made by an encoder with these weights."""
    fingerprint = encoder_fingerprint(clf.runner.model)
    if cache.is_file():
        saved = np.load(cache)
        if "fingerprint" in saved and str(saved["fingerprint"]) == fingerprint:
            return {s: saved[s] for s in SPLITS}
    vectors = {s: clf.embed([r.text for r in read_records(ROOT / "data" / f"{s}.jsonl")], progress=True)
               for s in SPLITS}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, fingerprint=fingerprint, **vectors)
    return vectors


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def scores(labels: dict, topic: dict, stance: dict) -> dict:
    """Dev scores with rules tuned on dev, and test scores under those rules."""
    dev = tuned_report(labels["dev"][0], topic["dev"], labels["dev"][1], stance["dev"])
    rules = dev["rules"]
    test = score_report(labels["test"][0], topic["test"], rules["topic_thresholds"], labels["test"][1],
                        reweight(stance["test"], rules["stance_prior_weights"]))
    return {"dev": headline_scores(dev), "test": headline_scores(test), "rules": rules}


def refit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (classes x features) and biases of L2 logistic regression: multinomial on class indices,
    one binary fit per column on a multi-hot matrix."""
    if y.ndim == 1:
        fit = LogisticRegression(C=c, max_iter=3000).fit(x, y)
        return fit.coef_, fit.intercept_
    fits = [LogisticRegression(C=c, max_iter=3000).fit(x, y[:, k]) for k in range(y.shape[1])]
    return np.concatenate([f.coef_ for f in fits]), np.concatenate([f.intercept_ for f in fits])


def save(clf: Classifier, name: str, weights: tuple, mix: float, model_dir: Path | None, run: Path) -> None:
    """Write the model with head ``name`` set to ``mix * refit + (1 - mix) * old`` and dev-tuned rules as a
    run folder."""
    head = getattr(clf.runner.model, f"{name}_head")
    with torch.no_grad():
        head.weight.copy_(mix * torch.from_numpy(weights[0]).float() + (1 - mix) * head.weight)
        head.bias.copy_(mix * torch.from_numpy(weights[1]).float() + (1 - mix) * head.bias)
    model = clf.runner.model
    dev = read_records(ROOT / "data" / "dev.jsonl")
    model.config.topic_thresholds, model.config.stance_prior_weights = tune_decision_rules(model, clf.tokenizer, dev)
    source = model_dir or PACKAGE_DIR
    model.save_pretrained(run / "model")
    clf.tokenizer.save_pretrained(run / "model")
    shutil.copy(source / "training_config.yaml", run / "model" / "training_config.yaml")
    shutil.copy((model_dir.parent if model_dir else PACKAGE_DIR) / "metrics.jsonl", run / "metrics.jsonl")
    print(f"{run}: {name} head refit (mix {mix:g}); rules tuned on dev: topic thresholds "
          f"{model.config.topic_thresholds}, stance prior weights {model.config.stance_prior_weights}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    p.add_argument("--cache", default=str(ROOT / "runs" / "head-refit" / "pooled.npz"))
    p.add_argument("--cs", default="0.001,0.003,0.01,0.03", help="inverse L2 strengths to try")
    p.add_argument("--mixes", default="0.25,0.5,0.75,1", help="weights of the refitted head's logits")
    p.add_argument("--head", choices=("stance", "topic"), default="stance")
    p.add_argument("--save", help="run folder to write the one refit asked for into (see above)")
    args = p.parse_args()
    if args.save and ("," in args.cs or "," in args.mixes):
        p.error("--save writes one refit: give one value each to --cs and --mixes")
    clf = Classifier.from_pretrained(args.model, device="cpu", backend="torch")
    vectors = pooled_vectors(clf, Path(args.cache))
    model = clf.runner.model
    mean, scale = model.feature_mean.numpy(), model.feature_scale.numpy()
    labels = {s: label_arrays(read_records(ROOT / "data" / f"{s}.jsonl")) for s in SPLITS}
    x = {s: (vectors[s] - mean) * scale for s in SPLITS}
    head = lambda layer, s: x[s] @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()  # noqa: E731
    logits = {name: {s: head(getattr(model, f"{name}_head"), s) for s in SPLITS} for name in ("topic", "stance")}
    to_probs = {"topic": lambda z: 1 / (1 + np.exp(-z)), "stance": softmax}
    probs = {name: {s: to_probs[name](z) for s, z in by_split.items()} for name, by_split in logits.items()}
    rows = {"model": scores(labels, probs["topic"], probs["stance"])}
    target, old = labels["train"][0 if args.head == "topic" else 1], logits[args.head]
    for c in map(float, args.cs.split(",")):
        weights = refit(x["train"], target, c)
        new = {s: x[s] @ weights[0].T + weights[1] for s in SPLITS}
        for mix in map(float, args.mixes.split(",")):
            mixed = {s: to_probs[args.head](mix * new[s] + (1 - mix) * old[s]) for s in SPLITS}
            rows[f"{args.head} refit C={c:g} mix {mix:g}"] = scores(labels, **(probs | {args.head: mixed}))
            if args.save:
                fp32 = Classifier.from_pretrained(args.model, device="cpu", backend="torch", precision="fp32")
                save(fp32, args.head, weights, mix, Path(args.model) if args.model else None, Path(args.save))
    for name, row in rows.items():
        fmt = lambda d: " / ".join(f"{v:.4f}" for v in d.values())  # noqa: E731
        print(f"{name:28s} dev {fmt(row['dev'])}   test {fmt(row['test'])}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
