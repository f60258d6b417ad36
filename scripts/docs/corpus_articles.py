"""Rebuild whole articles from the pool's paragraphs (for the README's report example).

Paragraphs of one ``doc_id`` are joined in ``para_index`` order, one per line, into an article
row with the document's ``outlet``, ``date`` and ``url``; ``--datasets`` keeps some sources only.

    python scripts/docs/corpus_articles.py ../shared/corpus/paragraphs.jsonl runs/demo/articles.jsonl --datasets ant
"""
import argparse
import json
from collections import defaultdict


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pool")
    p.add_argument("out")
    p.add_argument("--datasets", default="ant,baly,seed", help="comma-separated sources to keep")
    args = p.parse_args()
    keep = set(args.datasets.split(","))
    docs = defaultdict(list)
    for line in open(args.pool, encoding="utf-8"):
        row = json.loads(line)
        if row["dataset"] in keep:
            docs[row["doc_id"]].append(row)
    with open(args.out, "w", encoding="utf-8") as f:
        for doc_id, rows in docs.items():
            rows.sort(key=lambda r: r["para_index"])
            first = rows[0]
            article = {"id": doc_id, "text": "\n".join(r["text"] for r in rows), "outlet": first["outlet"],
                       "date": first["date"], "url": first["url"]}
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
    print(f"{len(docs)} articles written to {args.out}")


if __name__ == "__main__":
    main()
