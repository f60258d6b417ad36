"""Stance rationales for train: pick the paragraphs to mark, then add the marked cues to train.jsonl.

``select`` writes batches (ids and texts) of every framed train paragraph and a random sample of
neutral ones that contain one of LABELS.md's listed cue words (where attribution and the ISIS
exception decide; keywords only choose what is read, never a label). Annotators read each paragraph
blind and write a full record (topics, stance) plus ``cues`` (see data/annotation/briefs/cues.txt).

``add`` checks each annotated batch with ../shared/tools/check_annotations.py and newsclf's reader
(every cue found verbatim), prints the agreement of the blind stance with train's, and adds the
``cues`` of the paragraphs whose blind stance equals train's to those records (the others keep
none: their cues would explain a label train does not have). Train's labels are not changed.

    python scripts/dataset/add_cues.py select data/train.jsonl data/annotation/cues/batches --neutral 800
    python scripts/dataset/add_cues.py add data/train.jsonl data/annotation/cues/annotated/batch*.jsonl
"""
import argparse
import collections
import dataclasses
import json
import random
import subprocess
import sys
from pathlib import Path

from newsclf.data import CUES_FIELD, read_records, write_records
from newsclf.labels import NEUTRAL

CHECKER = Path(__file__).resolve().parents[2] / ".." / "shared" / "tools" / "check_annotations.py"
# LABELS.md's stance table, both sides: the words whose attribution decides a paragraph's stance
LISTED_CUES = ("الجيش العربي السوري", "الجيش السوري وحلفاؤه", "المسلحين", "المسلحون", "الإرهابيين", "الإرهابية",
               "المجموعات المسلحة", "الجماعات المسلحة", "تطهير", "تحرير", "إعادة الأمن", "نظام الأسد", "قوات الأسد",
               "ميليشيات الأسد", "الثوار", "الثورة", "المحرر", "شهداء", "حزب الله الإرهابي", "الاحتلال الروسي",
               "شبيحة", "الشبيحة", "ميليشيا")


def select(train: Path, out: Path, neutral: int, batches: int, seed: int) -> None:
    records = read_records(train)
    framed = [r for r in records if r.stance != NEUTRAL]
    cue_neutral = [r for r in records if r.stance == NEUTRAL and any(c in r.text for c in LISTED_CUES)]
    rng = random.Random(seed)
    chosen = framed + rng.sample(cue_neutral, min(neutral, len(cue_neutral)))
    rng.shuffle(chosen)
    out.mkdir(parents=True, exist_ok=True)
    for b in range(batches):
        with open(out / f"batch{b + 1}.jsonl", "w", encoding="utf-8") as f:
            for r in chosen[b::batches]:
                f.write(json.dumps({"id": r.id, "text": r.text}, ensure_ascii=False) + "\n")
    print(f"{len(framed)} framed + {min(neutral, len(cue_neutral))} of {len(cue_neutral)} neutral with a listed "
          f"cue word, in {batches} batches under {out}")


def add(train: Path, annotated: list[Path]) -> None:
    readings = {}
    for path in annotated:
        if subprocess.run([sys.executable, str(CHECKER), str(path)], capture_output=True).returncode != 0:
            sys.exit(f"{path}: check_annotations.py refused it; run it to see the lines")
        for r in read_records(path):  # validates every cue against its text
            readings[r.id] = r
    records = read_records(train)
    by_id = {r.id: r for r in records}
    missing = sorted(set(readings) - set(by_id))
    if missing:
        sys.exit(f"{len(missing)} annotated ids are not in {train}, e.g. {missing[:3]}")
    table, kept = collections.Counter(), 0
    for i, r in enumerate(records):
        second = readings.get(r.id)
        if second is None:
            continue
        table[(r.stance, second.stance)] += 1
        meta = {k: v for k, v in r.meta.items() if k != CUES_FIELD}
        if second.stance == r.stance and second.text == r.text:
            meta[CUES_FIELD], kept = second.meta[CUES_FIELD], kept + 1
        records[i] = dataclasses.replace(r, meta=meta)
    write_records(records, train)
    for (gold, blind), n in sorted(table.items()):
        print(f"train {gold:15s} blind {blind:15s} {n}")
    print(f"cues added to {kept} of {len(readings)} read paragraphs ({train})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("select")
    s.add_argument("train", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--neutral", type=int, default=800)
    s.add_argument("--batches", type=int, default=8)
    s.add_argument("--seed", type=int, default=6)
    a = sub.add_parser("add")
    a.add_argument("train", type=Path)
    a.add_argument("annotated", type=Path, nargs="+")
    args = p.parse_args()
    if args.command == "select":
        select(args.train, args.out, args.neutral, args.batches, args.seed)
    else:
        add(args.train, args.annotated)


if __name__ == "__main__":
    main()
