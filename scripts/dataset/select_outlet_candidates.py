"""Round 5: the unlabelled paragraphs of outlets whose labelled paragraphs are often pro_government.

By round 4 a model could no longer find pro_government paragraphs in the pool (37 among the 2,000 it
ranked likeliest), yet a handful of outlets frame the war the government's way in a third or more of
their labelled paragraphs, and some of their paragraphs were never labelled. Their outlet is a better prior
than the model. Chosen: every unlabelled, non-empty paragraph of an outlet with at least ``--min-count``
labelled pro_government paragraphs making up at least ``--min-rate`` of its labelled ones, except
paragraphs of test documents (the test split stays unchanged) and ids already pseudo-labelled. The outlet
only chooses *what* is read: every label still comes from an annotator reading the paragraph.

    python scripts/dataset/select_outlet_candidates.py ../shared/corpus/paragraphs.jsonl data \
        runs/round5/suggested.jsonl --exclude data/pseudo/teacher-v3-tfidf.jsonl
"""
import argparse
import json
from collections import Counter
from pathlib import Path

from newsclf.data import iter_texts, read_records, unlabelled_candidates


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("data_dir")
    p.add_argument("out")
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--min-rate", type=float, default=0.15)
    p.add_argument("--exclude", action="append", default=[], help="a file of ids not to choose (repeatable)")
    args = p.parse_args()
    data = Path(args.data_dir)
    splits = [data / f"{s}.jsonl" for s in ("train", "dev", "test")]
    stance = {r.id: r.stance for path in splits for r in read_records(path)}
    total, pro_gov = Counter(), Counter()
    for row in iter_texts(args.corpus):
        if row.id in stance:
            total[row.meta["outlet"]] += 1
            pro_gov[row.meta["outlet"]] += stance[row.id] == "pro_government"
    outlets = sorted(o for o in total if pro_gov[o] >= args.min_count and pro_gov[o] / total[o] >= args.min_rate)
    rows, _ = unlabelled_candidates(args.corpus, [*splits, *args.exclude], held_out=[data / "test.jsonl"])
    chosen = [r for r in rows if r.meta["outlet"] in outlets]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in chosen:
            f.write(json.dumps({"id": r.id, "text": r.text, **r.meta, "suggest_share": "outlet"},
                               ensure_ascii=False) + "\n")
    print(json.dumps({"outlets": {o: {"labelled": total[o], "pro_government": pro_gov[o],
                                      "chosen": sum(r.meta["outlet"] == o for r in chosen)} for o in outlets},
                      "chosen": len(chosen)}, indent=1))


if __name__ == "__main__":
    main()
