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
from collections import defaultdict
from pathlib import Path

from build_dataset import assign_documents, final_labels, records_of, write_split

SHARES = {"train": 0.9, "dev": 0.1}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("data_dir")
    p.add_argument("annotated", help="the round's folder of joined annotation files")
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args()
    data, ann = Path(args.data_dir), Path(args.annotated)
    splits = {s: [json.loads(line) for line in open(data / f"{s}.jsonl", encoding="utf-8")]
              for s in ("train", "dev", "test")}
    split_of_doc = {r["doc_id"]: s for s, rows in splits.items() for r in rows}
    known = {r["id"] for rows in splits.values() for r in rows}
    labels = final_labels(sorted(ann.glob("primary-*.jsonl")), ann / "adjudicate.jsonl")
    new = [r for r in records_of(labels, args.corpus) if r["id"] not in known]
    in_test = [r["id"] for r in new if split_of_doc.get(r["doc_id"]) == "test"]
    if in_test:
        raise SystemExit(f"{len(in_test)} paragraphs come from test documents (e.g. {in_test[:3]}): "
                         "the test split must stay unchanged")
    docs = defaultdict(list)
    for r in new:
        docs[r["doc_id"]].append(r)
    split_of_doc |= assign_documents({d: rows for d, rows in docs.items() if d not in split_of_doc}, SHARES, args.seed)
    for r in new:
        splits[split_of_doc[r["doc_id"]]].append(r)
    for split in ("train", "dev"):
        added = sum(1 for r in new if split_of_doc[r["doc_id"]] == split)
        write_split(splits[split], data / f"{split}.jsonl", f" (+{added})")


if __name__ == "__main__":
    main()
