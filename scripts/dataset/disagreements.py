"""List the paragraphs whose two independent annotations differ, for adjudication.

Writes ``batches/adjudicate.jsonl``: id, text and both readings (``topics_A``/``stance_A``,
``topics_B``/``stance_B``) of every paragraph annotated twice whose topic set or stance differs.
(The adjudicator's copy nested them as ``reading_A`` and ``reading_B``; same content.)

    python scripts/disagreements.py data/annotation
"""
import argparse
import json
from pathlib import Path

from build_dataset import load


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("annotation_dir")
    args = p.parse_args()
    root = Path(args.annotation_dir)
    first = load(sorted((root / "annotated").glob("primary-*.jsonl")))
    second = load(sorted((root / "annotated").glob("second-*.jsonl")))
    rows = []
    for rid, b in sorted(second.items()):
        a = first[rid]
        if a["topics"] != b["topics"] or a["stance"] != b["stance"]:
            rows.append({"id": rid, "text": a["text"], "topics_A": a["topics"], "stance_A": a["stance"],
                         "topics_B": b["topics"], "stance_B": b["stance"]})
    with open(root / "batches" / "adjudicate.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} of {len(second)} doubly annotated paragraphs differ")


if __name__ == "__main__":
    main()
