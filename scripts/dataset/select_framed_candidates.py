"""Second annotation round: find more framed (pro_government / pro_opposition) paragraphs.

Framed paragraphs are rare, so after the first round a TF-IDF + logistic-regression ranker,
fitted on the first round's labels, scores the rest of the pool; the top-ranked paragraphs
for each framed stance are sent to annotators. The ranker only chooses *what* is annotated:
every label still comes from an annotator reading the paragraph.

    python scripts/select_framed_candidates.py ../shared/corpus/paragraphs.jsonl data/annotation
"""
import argparse
import json
import random
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from newsclf.data import write_texts


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("corpus")
    p.add_argument("out")
    p.add_argument("--pro-government", type=int, default=800)
    p.add_argument("--pro-opposition", type=int, default=300)
    p.add_argument("--annotators", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=50)
    args = p.parse_args()
    out = Path(args.out)
    labelled = {}
    for f in sorted((out / "annotated").glob("primary-*.jsonl")):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            labelled[r["id"]] = r
    rows = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=200000)
    x = vec.fit_transform([r["text"] for r in labelled.values()])
    rest = [r for r in rows if r["id"] not in labelled]
    x_rest = vec.transform([r["text"] for r in rest])
    chosen, taken = [], set()
    for stance, n in (("pro_government", args.pro_government), ("pro_opposition", args.pro_opposition)):
        y = [r["stance"] == stance for r in labelled.values()]
        ranker = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced").fit(x, y)
        scores = ranker.predict_proba(x_rest)[:, 1]
        order = sorted(range(len(rest)), key=lambda i: -scores[i])
        picked = [rest[i] for i in order if rest[i]["id"] not in taken][:n]
        taken |= {r["id"] for r in picked}
        chosen += [dict(r, stratum=f"ranked_{stance}") for r in picked]
    rng = random.Random(17)
    rng.shuffle(chosen)
    manifest = json.loads((out / "manifest.json").read_text())
    for b in range(0, len(chosen), args.batch_size):
        name = f"framed-{b // args.batch_size:03d}"
        batch = chosen[b:b + args.batch_size]
        write_texts(batch, out / "batches" / f"{name}.jsonl")
        manifest.append({"batch": name, "annotator": (b // args.batch_size) % args.annotators,
                         "ids": [r["id"] for r in batch]})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    with open(out / "sample.jsonl", "a", encoding="utf-8") as f:
        for r in chosen:
            f.write(json.dumps({k: r[k] for k in ("id", "dataset", "outlet", "doc_id", "stratum")},
                               ensure_ascii=False) + "\n")
    print(f"{len(chosen)} ranked candidates in {(len(chosen) + args.batch_size - 1) // args.batch_size} batches")


if __name__ == "__main__":
    main()
