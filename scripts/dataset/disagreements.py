"""List the paragraphs whose two independent annotations differ, for adjudication.

Writes OUT: id, text and both readings (``reading_A``, ``reading_B``: topics and stance) of
every paragraph annotated twice (``primary-*`` and ``second-*`` files of ANNOTATED) whose topic
set or stance differs.

    python scripts/dataset/disagreements.py data/annotation/annotated data/annotation/batches/adjudicate.jsonl
    python scripts/dataset/disagreements.py data/annotation/round3/annotated runs/round3/batches/adjudicate.jsonl
"""
import argparse
import json
from pathlib import Path

from build_dataset import load


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("annotated", help="folder of joined annotation files")
    p.add_argument("out", help="the adjudication batch to write")
    args = p.parse_args()
    root = Path(args.annotated)
    first = load(sorted(root.glob("primary-*.jsonl")))
    second = load(sorted(root.glob("second-*.jsonl")))
    rows = []
    for rid, b in sorted(second.items()):
        a = first[rid]
        if a["topics"] != b["topics"] or a["stance"] != b["stance"]:
            rows.append({"id": rid, "text": a["text"], "reading_A": {"topics": a["topics"], "stance": a["stance"]},
                         "reading_B": {"topics": b["topics"], "stance": b["stance"]}})
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} of {len(second)} doubly annotated paragraphs differ")


if __name__ == "__main__":
    main()
