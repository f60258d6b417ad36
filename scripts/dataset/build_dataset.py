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


def final_labels(first_readings: list, adjudicated: Path) -> dict:
    """Each paragraph's first reading, replaced by the adjudicated labels where readings differed."""
    labels = load(first_readings)
    if adjudicated.exists():
        labels.update({k: {**labels[k], "topics": v["topics"], "stance": v["stance"]}
                       for k, v in load([adjudicated]).items()})
    return labels


def assign_documents(docs: dict, shares: dict, seed: int) -> dict:
    """Split of each document: documents grouped by their rarest label, shuffled (seeded), and each
    given to the split furthest below its share of that group's paragraphs."""
    groups = defaultdict(list)
    for doc_id in sorted(docs):
        groups[rarity_group(docs[doc_id])].append(doc_id)
    rng = random.Random(seed)
    split_of = {}
    for name in sorted(groups):
        ids = groups[name]
        rng.shuffle(ids)
        total = sum(len(docs[d]) for d in ids)
        filled = Counter()
        for d in ids:
            split = min(shares, key=lambda s: (filled[s] + len(docs[d]) / 2) / (shares[s] * total))
            split_of[d] = split
            filled[split] += len(docs[d])
    return split_of


def write_split(rows: list, path: Path, note: str = "") -> None:
    """Write a split's records and print its counts."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    stance = Counter(r["stance"] for r in rows)
    topics = Counter(t for r in rows for t in r["topics"])
    print(f"{path.stem}: {len(rows)} paragraphs{note}, {len({r['doc_id'] for r in rows})} documents; "
          f"topics {dict(topics)}, none {sum(not r['topics'] for r in rows)}; stance {dict(stance)}")


def records_of(labels: dict, corpus_path: str) -> list:
    """Labelled records with the pool's text and metadata, in id order."""
    corpus = {}
    for line in open(corpus_path, encoding="utf-8"):
        r = json.loads(line)
        if r["id"] in labels:
            corpus[r["id"]] = r
    return [{"id": i, "text": corpus[i]["text"], "topics": labels[i]["topics"], "stance": labels[i]["stance"],
             **{k: corpus[i][k] for k in META}} for i in sorted(labels)]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("corpus")
    p.add_argument("data_dir")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    data = Path(args.data_dir)
    ann = data / "annotation" / "annotated"
    labels = final_labels(sorted(ann.glob("primary-*.jsonl")) + sorted(ann.glob("framed-*.jsonl")),
                          ann / "adjudicate.jsonl")
    records = records_of(labels, args.corpus)
    docs = defaultdict(list)
    for r in records:
        docs[r["doc_id"]].append(r)
    split_of = assign_documents(docs, SHARES, args.seed)
    for split in SHARES:
        write_split([r for r in records if split_of[r["doc_id"]] == split], data / f"{split}.jsonl")


if __name__ == "__main__":
    main()
