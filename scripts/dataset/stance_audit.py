"""Whose error is it? A blind re-reading of a sample of a model's stance errors on dev.

``sample`` runs a model on a labelled file through the inference path (with its saved rules) and
writes a sample of its stance errors, per (gold, predicted) cell, as blind batches (ids and texts
only) plus ``errors.jsonl`` (id, gold, model) kept away from the readers. Readers label each
paragraph's stance by reading it against LABELS.md (``reading*.jsonl``: ``id``, ``stance``, ``cue``
(the deciding unattributed words), ``attributed``, ``confidence``, ``note``). ``score`` says, per cell,
whether the blind reading sides with the gold label or with the model, and where the deciding cue
sits in the model's tokens (past the first window means truncation could explain a miss).

    python scripts/dataset/stance_audit.py sample runs/v4/model data/dev.jsonl docs/audits/stance-v4-dev
    python scripts/dataset/stance_audit.py score runs/v4/model data/dev.jsonl docs/audits/stance-v4-dev
"""
import argparse
import collections
import json
from pathlib import Path

import numpy as np

from newsclf import Classifier
from newsclf.data import read_records
from newsclf.labels import STANCES

# (gold, predicted) cells and how many of each to sample: the confusions that cost most macro-F1
CELLS = {("neutral", "pro_opposition"): 30, ("pro_government", "neutral"): 24,
         ("pro_opposition", "neutral"): 16, ("neutral", "pro_government"): 10}


def sample(model: str, data: Path, out: Path, batches: int, seed: int) -> None:
    records = read_records(data)
    predicted = Classifier.from_pretrained(model)([r.text for r in records], progress=True)
    rng = np.random.default_rng(seed)
    rows = []
    for (gold, pred), k in CELLS.items():
        cell = [i for i, (r, p) in enumerate(zip(records, predicted)) if r.stance == gold and p.stance == pred]
        rows += [{"id": records[i].id, "text": records[i].text, "gold": gold, "model": pred}
                 for i in rng.choice(cell, min(k, len(cell)), replace=False)]
    rng.shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "errors.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({k: r[k] for k in ("id", "gold", "model")}, ensure_ascii=False) + "\n" for r in rows)
    for b in range(batches):
        with open(out / f"blind{b + 1}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n"
                         for r in rows[b::batches])
    print(f"{len(rows)} errors of {model} on {data} in {batches} blind batches under {out}")


def score(model: str, data: Path, out: Path, window: int) -> None:
    texts = {r.id: r.text for r in read_records(data)}
    errors = {r["id"]: r for r in map(json.loads, open(out / "errors.jsonl", encoding="utf-8"))}
    readings = {r["id"]: r for path in sorted(out.glob("reading*.jsonl"))
                for r in map(json.loads, open(path, encoding="utf-8"))}
    missing = set(errors) - set(readings)
    if missing:
        raise SystemExit(f"{len(missing)} sampled errors have no reading, e.g. {sorted(missing)[:3]}")
    tokenizer = Classifier.from_pretrained(model).tokenizer
    sides, positions = collections.Counter(), []
    for rid, e in errors.items():
        r = readings[rid]
        assert r["stance"] in STANCES, f"{rid}: unknown stance {r['stance']!r}"
        side = "gold" if r["stance"] == e["gold"] else "model" if r["stance"] == e["model"] else "neither"
        sides[(e["gold"], e["model"], side, r["confidence"])] += 1
        at = texts[rid].find(r["cue"]) if r["cue"] else -1
        if side == "gold" and at >= 0 and e["model"] == "neutral":  # a framing cue the model missed: where?
            positions.append(len(tokenizer(texts[rid][:at], add_special_tokens=False)["input_ids"]) + 1)
    for (gold, pred, side, confidence), n in sorted(sides.items()):
        print(f"gold {gold:15s} model {pred:15s} reading sides with {side:7s} ({confidence}) {n}")
    total = collections.Counter()
    for (_, _, side, _), n in sides.items():
        total[side] += n
    print(f"the blind reading sides with gold {total['gold']}, the model {total['model']}, neither "
          f"{total['neither']} of {len(errors)}")
    past = sum(p >= window - 1 for p in positions)
    print(f"missed framing cues past the first {window}-token window: {past} of {len(positions)}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("sample", "score"):
        s = sub.add_parser(name)
        s.add_argument("model")
        s.add_argument("data", type=Path)
        s.add_argument("out", type=Path)
    sub.choices["sample"].add_argument("--batches", type=int, default=2)
    sub.choices["sample"].add_argument("--seed", type=int, default=1)
    sub.choices["score"].add_argument("--window", type=int, default=128)
    args = p.parse_args()
    if args.command == "sample":
        sample(args.model, args.data, args.out, args.batches, args.seed)
    else:
        score(args.model, args.data, args.out, args.window)


if __name__ == "__main__":
    main()
