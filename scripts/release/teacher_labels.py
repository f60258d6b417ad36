"""Pseudo-labels for self-training from a teacher that averages a newsclf model with the n-gram floor.

On dev the average of a fine-tuned encoder and the TF-IDF floor beats either alone (the two err on
different paragraphs), so it makes a better teacher than the encoder, though it cannot be the shipped
model (one encoder, every runtime path). Rules are tuned on dev for the average and only confident rows
are kept (``newsclf.self_training``). ``newsclf pseudolabel`` does the same with newsclf models only.

    python scripts/release/teacher_labels.py runs/v3/model ../shared/corpus/paragraphs.jsonl \
        data/pseudo/teacher-v3-tfidf.jsonl --cache runs/exp

``--soft`` also writes the teacher's probabilities, which the student learns (distillation); with
``--topic-margin 0 --stance-confidence 0`` every pool paragraph is kept.

Probabilities are cached per source and split in ``--cache/<source>/<split>.npz`` (ids, topic, stance).
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from newsclf import Classifier
from newsclf.data import label_arrays, read_records, unlabelled_candidates
from newsclf.preprocessing import normalize_arabic
from newsclf.self_training import Teacher, average, write_pseudo_labels

sys.path.insert(0, str(Path(__file__).parent))
from tfidf_baseline import features, fit_stance, fit_topics, topic_probs  # noqa: E402


def cached(cache: Path | None, source: str, split: str, ids: list[str], compute):
    """``compute(split)``'s (topic, stance) for these ids, read from (any superset of them) or written to the
    cache."""
    path = cache / source / f"{split}.npz" if cache else None
    if path and path.is_file():
        z = np.load(path)
        index = {str(i): n for n, i in enumerate(z["ids"])}
        if any(i not in index for i in ids):
            raise ValueError(f"{path}: the cache lacks some of the rows asked for; delete it")
        rows = [index[i] for i in ids]
        return z["topic"][rows], z["stance"][rows]
    topic, stance = compute(split)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, ids=np.array(ids), topic=topic, stance=stance)
    return topic, stance


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model", help="the encoder half of the teacher")
    p.add_argument("pool", help="unlabelled paragraphs (JSONL/CSV/Parquet with id and text)")
    p.add_argument("out")
    p.add_argument("--data", default="data", help="folder of train/dev/test.jsonl (excluded from the pool)")
    p.add_argument("--topic-C", type=float, default=8.0, help="the floor's C for topics (data card: tuned on dev)")
    p.add_argument("--stance-C", type=float, default=0.5)
    p.add_argument("--topic-margin", type=float, default=2.0)
    p.add_argument("--stance-confidence", type=float, default=0.9)
    p.add_argument("--soft", action="store_true", help="also write the teacher's probabilities (distillation)")
    p.add_argument("--cache", type=Path)
    args = p.parse_args()
    data = Path(args.data)
    train, dev = read_records(data / "train.jsonl"), read_records(data / "dev.jsonl")
    rows, skipped = unlabelled_candidates(args.pool, [data / f"{s}.jsonl" for s in ("train", "dev", "test")],
                                          held_out=[data / "dev.jsonl", data / "test.jsonl"])
    texts = {"dev": [r.text for r in dev], "pool": [r.text for r in rows]}
    ids = {"dev": [r.id for r in dev], "pool": [r.id for r in rows]}
    clf = Classifier.from_pretrained(args.model)
    fitted = {}

    def tfidf(split):
        if not fitted:
            vec = features()
            x = vec.fit_transform([normalize_arabic(r.text) for r in train])
            y_topic, y_stance = label_arrays(train)
            fitted.update(vec=vec, topic=fit_topics(x, y_topic, args.topic_C),
                          stance=fit_stance(x, y_stance, args.stance_C))
        x = fitted["vec"].transform([normalize_arabic(t) for t in texts[split]])
        return topic_probs(fitted["topic"], x), fitted["stance"].predict_proba(x)

    def encoder(split):
        return clf.predict_proba(texts[split], batch_size=64, progress=True)

    probs = {split: average([cached(args.cache, Path(args.model).parent.name, split, ids[split], encoder),
                             cached(args.cache, "tfidf", split, ids[split], tfidf)]) for split in ("dev", "pool")}
    teacher = Teacher.tuned(*label_arrays(dev), *probs["dev"])
    keep, topics, stance = teacher.label(*probs["pool"], topic_margin=args.topic_margin,
                                         stance_confidence=args.stance_confidence)
    summary = write_pseudo_labels(rows, keep, topics, stance, args.out,
                                  f"{args.model} + tfidf(C={args.topic_C}/{args.stance_C})",
                                  teacher.soft_targets(*probs["pool"]) if args.soft else None)
    print(json.dumps({**summary, **skipped, "rules": {"topic_thresholds": teacher.thresholds,
                                                      "stance_prior_weights": teacher.stance_weights}}))


if __name__ == "__main__":
    main()
