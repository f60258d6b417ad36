"""Add a later annotation round to train and dev, keeping the test split unchanged.

Final labels of the round: each paragraph's first reading (``primary-*``), replaced by the
adjudicated labels (``adjudicate.jsonl``) where two independent readings differed. A paragraph
whose document is already in train or dev joins that split; a test document is refused (the
round must not touch the test split); new documents go to train or dev (about 9 to 1 by
paragraphs), assigned in a seeded order grouped by their rarest label, as ``build_dataset.py``
does. Rerunning is safe: paragraphs already in a split are left as they are.

    python scripts/dataset/add_round.py ../shared/corpus/paragraphs.jsonl data data/annotation/round3/annotated
"""
import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

from build_dataset import META, load, rarity_group

SHARES = {"train": 0.9, "dev": 0.1}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("data_dir")
    p.add_argument("annotated", help="the round's folder of joined annotation files")
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args()
    data, ann = Path(args.data_dir), Path(args.annotated)
    labels = load(sorted(ann.glob("primary-*.jsonl")))
    if (ann / "adjudicate.jsonl").exists():
        labels.update({k: {**labels[k], "topics": v["topics"], "stance": v["stance"]}
                       for k, v in load([ann / "adjudicate.jsonl"]).items()})
    splits = {s: [json.loads(line) for line in open(data / f"{s}.jsonl", encoding="utf-8")]
              for s in ("train", "dev", "test")}
    split_of_doc = {r["doc_id"]: s for s, rows in splits.items() for r in rows}
    known = {r["id"] for rows in splits.values() for r in rows}
    corpus = {}
    for line in open(args.corpus, encoding="utf-8"):
        r = json.loads(line)
        if r["id"] in labels:
            corpus[r["id"]] = r
    new = [{"id": i, "text": corpus[i]["text"], "topics": labels[i]["topics"], "stance": labels[i]["stance"],
            **{k: corpus[i][k] for k in META}} for i in sorted(labels) if i not in known]
    in_test = [r["id"] for r in new if split_of_doc.get(r["doc_id"]) == "test"]
    if in_test:
        raise SystemExit(f"{len(in_test)} paragraphs come from test documents (e.g. {in_test[:3]}): "
                         "the test split must stay unchanged")
    docs = defaultdict(list)
    for r in new:
        docs[r["doc_id"]].append(r)
    groups = defaultdict(list)
    for doc_id in sorted(d for d in docs if d not in split_of_doc):
        groups[rarity_group(docs[doc_id])].append(doc_id)
    rng = random.Random(args.seed)
    for name in sorted(groups):
        ids = groups[name]
        rng.shuffle(ids)
        total = sum(len(docs[d]) for d in ids)
        filled = Counter()
        for d in ids:  # give the document to the split furthest below its share of this group
            split = min(SHARES, key=lambda s: (filled[s] + len(docs[d]) / 2) / (SHARES[s] * total))
            split_of_doc[d] = split
            filled[split] += len(docs[d])
    for r in new:
        splits[split_of_doc[r["doc_id"]]].append(r)
    for split in ("train", "dev"):
        rows = splits[split]
        with open(data / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        stance = Counter(r["stance"] for r in rows)
        topics = Counter(t for r in rows for t in r["topics"])
        added = sum(1 for r in new if split_of_doc[r["doc_id"]] == split)
        print(f"{split}: {len(rows)} paragraphs (+{added}), {len({r['doc_id'] for r in rows})} documents; "
              f"topics {dict(topics)}, none {sum(not r['topics'] for r in rows)}; stance {dict(stance)}")


if __name__ == "__main__":
    main()
