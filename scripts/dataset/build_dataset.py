"""Merge the annotation batches into the final dataset and split it by document.

Final labels: the first annotation of each paragraph, replaced by the adjudicated labels
where the two independent readings differed. Splits: train/dev/test of about 80/10/10 of
the paragraphs with no document in two splits; documents are assigned in a seeded order,
grouped by their rarest label so that every split gets its share of each.

    python scripts/build_dataset.py ../shared/corpus/paragraphs.jsonl data
"""
import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

SHARES = {"train": 0.8, "dev": 0.1, "test": 0.1}
META = ("dataset", "outlet", "doc_id", "url")


def load(files):
    out = {}
    for f in files:
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            out[r["id"]] = r
    return out


def rarity_group(records):
    """The rarest label among a document's paragraphs, for stratified splitting."""
    stances = {r["stance"] for r in records}
    topics = {t for r in records for t in r["topics"]}
    for name, present in (("pro_government", "pro_government" in stances),
                          ("pro_opposition", "pro_opposition" in stances),
                          ("displacement", "displacement" in topics), ("humanitarian", "humanitarian" in topics),
                          ("none", any(not r["topics"] for r in records))):
        if present:
            return name
    return "other"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("corpus")
    p.add_argument("data_dir")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    data = Path(args.data_dir)
    ann = data / "annotation" / "annotated"
    labels = load(sorted(ann.glob("primary-*.jsonl")) + sorted(ann.glob("framed-*.jsonl")))
    adjudicated = ann / "adjudicate.jsonl"
    if adjudicated.exists():
        labels.update({k: {**labels[k], "topics": v["topics"], "stance": v["stance"]}
                       for k, v in load([adjudicated]).items()})
    corpus = {}
    for line in open(args.corpus, encoding="utf-8"):
        r = json.loads(line)
        if r["id"] in labels:
            corpus[r["id"]] = r
    records = [{"id": i, "text": corpus[i]["text"], "topics": labels[i]["topics"], "stance": labels[i]["stance"],
                **{k: corpus[i][k] for k in META}} for i in sorted(labels)]
    docs = defaultdict(list)
    for r in records:
        docs[r["doc_id"]].append(r)
    groups = defaultdict(list)
    for doc_id in sorted(docs):
        groups[rarity_group(docs[doc_id])].append(doc_id)
    rng = random.Random(args.seed)
    split_of = {}
    for name in sorted(groups):
        ids = groups[name]
        rng.shuffle(ids)
        total = sum(len(docs[d]) for d in ids)
        filled = Counter()
        for d in ids:  # give the document to the split furthest below its share of this group
            split = min(SHARES, key=lambda s: (filled[s] + len(docs[d]) / 2) / (SHARES[s] * total))
            split_of[d] = split
            filled[split] += len(docs[d])
    for split in SHARES:
        rows = [r for r in records if split_of[r["doc_id"]] == split]
        with open(data / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        stance = Counter(r["stance"] for r in rows)
        topics = Counter(t for r in rows for t in r["topics"])
        print(f"{split}: {len(rows)} paragraphs, {len({r['doc_id'] for r in rows})} documents; "
              f"topics {dict(topics)}, none {sum(not r['topics'] for r in rows)}; stance {dict(stance)}")


if __name__ == "__main__":
    main()
