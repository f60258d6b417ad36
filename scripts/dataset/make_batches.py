"""Cut suggested paragraphs into annotation batches (ids and texts only) and write each annotator's brief.

Rows are shuffled (seeded); every annotator gets a queue of primary batches; ``--second`` paragraphs, from the first
batches of each queue, are given once more to the next annotator (in the middle of its queue)
for an independent second reading. Each brief holds the whole of LABELS.md.

    python scripts/dataset/make_batches.py runs/round3/suggested.jsonl --round round3 \
        --annotators 8 --size 50 --second 840
"""
import argparse
import json
import random
from pathlib import Path

from newsclf.data import write_texts

ROOT = Path(__file__).resolve().parents[2]
LABELS_MD = ROOT / "src" / "newsclf" / "LABELS.md"

BRIEF = """You are annotator #{k} for an Arabic news-paragraph dataset. Your job: label each paragraph by READING it \
against the label guide below, which is the one definition of the labels. Follow it exactly.

Rules (important):
- Every label is decided by you reading the paragraph. Never assign labels with keyword rules, regexes, scripts \
that look at the text, or any model. Scripts may only copy/validate what you decided.
- Judge each paragraph on its own text only (no outside knowledge of the outlet or article).
- Do not open any file other than your own batch files and your own output files: in particular do NOT read \
/work/shared/corpus/, /work/main/runs/ other than your batches, /work/main/data/, or other annotators' files. \
Do not run git. Do not edit anything outside your own output files.

Your batches (in this order), each a JSONL file of {{"id","text"}} under {batches}/:
{queue}

For each batch NAME:
1. Read the batch file (e.g. `sed -n 1,25p {batches}/NAME.jsonl`, ~25 lines at a time).
2. For every paragraph decide: topics (zero or more of military, humanitarian, diplomatic, displacement) and \
stance (exactly one of pro_government, pro_opposition, neutral). Remember: stance is the WRITER's own unattributed \
wording; quoted or attributed words (قال، أكد، بحسب، وفق ...) are not the writer's framing; "قوات النظام" alone is \
neutral; a paragraph with no topic is neutral unless its wording frames the conflict.
3. Write your labels to {labels}/NAME.jsonl, one line per paragraph: {{"id": "...", "topics": [...], \
"stance": "..."}} (no text field). Writing them by hand with a shell heredoc (cat >> file <<'EOF' ... EOF) in \
chunks of ~25 is a good way.
4. Run: cd /work/main && .venv/bin/python scripts/dataset/join_labels.py {batches}/NAME.jsonl {labels}/NAME.jsonl \
{annotated}/NAME.jsonl
   It must exit 0 (it checks every id is labelled once with valid labels). Fix your labels file if it reports errors.

Work through your batches in order, finishing each batch (step 4) before the next. Quality matters more than \
speed, but keep moving: a paragraph should take you seconds, not minutes. Time limit: stop starting new batches at \
{deadline} UTC (check with `date`) and report. When finished (or at the time limit), reply with: the batches \
completed (all must pass join_labels.py), and 3-6 short bullet points on the recurring hard cases you met and how \
you decided them (this feeds the dataset card). Nothing else.

===== LABEL GUIDE (the whole of LABELS.md) =====
{labels_md}"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suggested", help="JSONL from `newsclf suggest`")
    p.add_argument("--round", required=True, help="name of the round, e.g. round3")
    p.add_argument("--annotators", type=int, default=8)
    p.add_argument("--size", type=int, default=50)
    p.add_argument("--second", type=int, default=800, help="paragraphs to read twice")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deadline", default="13:25", help="wall-clock time (UTC) after which no batch is started")
    args = p.parse_args()
    rows = [json.loads(line) for line in open(args.suggested, encoding="utf-8")]
    random.Random(args.seed).shuffle(rows)  # every batch mixes the shares, so a partial round keeps the mix
    work = ROOT / "runs" / args.round
    batches_dir, labels_dir = work / "batches", work / "labels"
    annotated_dir = ROOT / "data" / "annotation" / args.round / "annotated"
    briefs_dir = ROOT / "data" / "annotation" / args.round / "briefs"
    for d in (batches_dir, labels_dir, annotated_dir, briefs_dir):
        d.mkdir(parents=True, exist_ok=True)

    batches = [rows[i:i + args.size] for i in range(0, len(rows), args.size)]
    queues = [[] for _ in range(args.annotators)]
    for b, items in enumerate(batches):
        name = f"primary-{b:03d}"
        write_texts(items, batches_dir / f"{name}.jsonl")
        queues[b % args.annotators].append(name)
    per_annotator = -(-args.second // args.annotators)
    manifest = {"suggested": str(args.suggested), "primary": {}, "second": {}}
    for k, queue in enumerate(queues):
        first = [r for name in queue[:3] for r in batches[int(name.split("-")[1])]][:per_annotator]
        name = f"second-{k:03d}"
        write_texts(first, batches_dir / f"{name}.jsonl")
        reader = (k + 1) % args.annotators
        queues[reader].insert(min(4, len(queues[reader])), name)
        manifest["second"][name] = {"first_reader": k, "second_reader": reader, "n": len(first)}
    labels_md = LABELS_MD.read_text(encoding="utf-8")
    for k, queue in enumerate(queues):
        manifest["primary"][f"annotator-{k}"] = queue
        (briefs_dir / f"annotator-{k}.txt").write_text(BRIEF.format(
            k=k, batches=batches_dir, labels=labels_dir, annotated=annotated_dir, deadline=args.deadline,
            queue="\n".join(f"  {n}.jsonl" for n in queue), labels_md=labels_md), encoding="utf-8")
    (ROOT / "data" / "annotation" / args.round / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"{len(batches)} primary batches, {args.annotators} second-reading batches, briefs in {briefs_dir}")


if __name__ == "__main__":
    main()
