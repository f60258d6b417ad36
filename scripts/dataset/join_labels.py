"""Join an annotator's labels with its batch's texts and check the result.

The annotator writes one line per paragraph, ``{"id": ..., "topics": [...], "stance": ...}``;
this script adds the text from the batch, puts topics in LABELS.md order, refuses missing,
extra or repeated ids, and runs ``../shared/tools/check_annotations.py`` on the output.

    python scripts/dataset/join_labels.py data/annotation/batches/primary-000.jsonl \
        data/annotation/labels/primary-000.jsonl data/annotation/annotated/primary-000.jsonl
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

from newsclf.labels import TOPICS

CHECKER = Path(__file__).resolve().parents[2] / ".." / "shared" / "tools" / "check_annotations.py"
CORPUS = CHECKER.parents[1] / "corpus" / "paragraphs.jsonl"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("batch")
    p.add_argument("labels")
    p.add_argument("out")
    args = p.parse_args()
    texts = {}
    for line in open(args.batch, encoding="utf-8"):
        r = json.loads(line)
        texts[r["id"]] = r["text"]
    labelled, errors = {}, []
    for n, line in enumerate(open(args.labels, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            rid, topics, stance = r["id"], r["topics"], r["stance"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            errors.append(f"{args.labels}:{n}: cannot read the line ({e!r})")
            continue
        if rid not in texts:
            errors.append(f"{args.labels}:{n}: id {rid} is not in the batch {args.batch}")
        elif rid in labelled:
            errors.append(f"{args.labels}:{n}: id {rid} is labelled twice")
        elif not isinstance(topics, list) or any(t not in TOPICS for t in topics):
            errors.append(f"{args.labels}:{n}: topics {topics!r} must be a list drawn from {TOPICS}")
        else:
            extra = {k: v for k, v in r.items() if k not in ("id", "topics", "stance", "text")}  # e.g. "reason"
            labelled[rid] = {"id": rid, "text": texts[rid], "topics": [t for t in TOPICS if t in topics],
                             "stance": stance, **extra}
    missing = [i for i in texts if i not in labelled]
    if missing:
        errors.append(f"{args.labels}: {len(missing)} ids of the batch have no label: {missing[:10]}")
    if errors:
        sys.exit("\n".join(errors))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for rid in texts:
            f.write(json.dumps(labelled[rid], ensure_ascii=False) + "\n")
    sys.exit(subprocess.call([sys.executable, str(CHECKER), args.out, "--corpus", str(CORPUS)]))


if __name__ == "__main__":
    main()
