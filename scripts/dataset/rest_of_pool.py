"""Write every pool paragraph that is not yet labelled and not of a test document, for a round that reads them all.

Round 6 read the whole rest of the pool, so no selection was needed: the candidates are the pool less the ids of
train, dev and test, less every paragraph of a test document (splits are by document; dev documents may grow).
Rows keep the pool's order; ``make_batches.py`` shuffles them.

    python scripts/dataset/rest_of_pool.py ../shared/corpus/paragraphs.jsonl data runs/round6/candidates.jsonl
"""
import argparse
from pathlib import Path

from newsclf.data import unlabelled_candidates, write_texts


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pool")
    p.add_argument("data_dir", help="folder of train.jsonl, dev.jsonl and test.jsonl")
    p.add_argument("out")
    args = p.parse_args()
    data = Path(args.data_dir)
    rows, skipped = unlabelled_candidates(args.pool, [data / f"{s}.jsonl" for s in ("train", "dev", "test")],
                                         held_out=[data / "test.jsonl"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_texts([{"id": r.id, "text": r.text} for r in rows], args.out)
    print(f"{len(rows)} candidates written to {args.out}; skipped {skipped}")


if __name__ == "__main__":
    main()
