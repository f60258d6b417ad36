"""Stance rationales for train: pick the paragraphs to mark, then add the marked cues to train.jsonl.

``select`` writes batches (ids and texts) of every framed train paragraph and a random sample of
neutral ones that contain one of LABELS.md's listed cue words (where attribution and the ISIS
exception decide; keywords only choose what is read, never a label). Annotators read each paragraph
blind and write a full record (topics, stance) plus ``cues`` (see data/annotation/briefs/cues.txt).

A later round passes ``--exclude`` (the batches already read) and ``--word`` (neutral paragraphs
with that word and no listed cue word are all read too: «النظام», whose neutral uses the model
confuses with framing).

``add`` checks each annotated batch with ../shared/tools/check_annotations.py and newsclf's reader
(every cue found verbatim), prints the agreement of the blind stance with train's, and adds the
``cues`` of the paragraphs whose blind stance equals train's to those records (the others keep
none: their cues would explain a label train does not have). Train's labels are not changed,
except by ``--adjudicated``: an adjudicator's full records (topics, stance, cues) replace train's.

``disagreements`` writes the paragraphs whose blind stance differs from train's, for adjudication:
id, text and the two readings (topics and stance) as ``reading_A`` / ``reading_B`` in a seeded
random order, so that the adjudicator cannot tell which is train's.

    python scripts/dataset/add_cues.py select data/train.jsonl data/annotation/cues/batches --neutral 800
    python scripts/dataset/add_cues.py add data/train.jsonl data/annotation/cues/annotated/batch*.jsonl
    python scripts/dataset/add_cues.py select data/train.jsonl data/annotation/cues2/batches --neutral 985 \
        --batches 7 --seed 7 --exclude data/annotation/cues/batches --word النظام
    python scripts/dataset/add_cues.py select data/train.jsonl data/annotation/cues3/batches --neutral 0 \
        --batches 7 --seed 9 --exclude data/annotation/cues/batches --exclude data/annotation/cues2/batches \
        --word المعارضة --word الفصائل --word فصائل --word "حزب الله" --word الإيرانية --word الأسد
    python scripts/dataset/add_cues.py disagreements data/train.jsonl data/annotation/cues/annotated/batch*.jsonl \
        --out runs/cues/adjudicate.jsonl
    python scripts/dataset/add_cues.py add data/train.jsonl data/annotation/cues*/annotated/batch*.jsonl \
        --adjudicated data/annotation/cues/annotated/adjudicate.jsonl \
        --adjudicated data/annotation/cues2/annotated/adjudicate.jsonl \
        --adjudicated data/annotation/cues3/annotated/adjudicate.jsonl
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


def batch_ids(folders: list[Path]) -> set[str]:
    return {json.loads(line)["id"] for d in folders for f in sorted(d.glob("*.jsonl"))
            for line in open(f, encoding="utf-8")}


def select(train: Path, out: Path, neutral: int, batches: int, seed: int, exclude: list[Path],
           words: list[str]) -> None:
    read = batch_ids(exclude)
    records = [r for r in read_records(train) if r.id not in read]
    framed = [r for r in records if r.stance != NEUTRAL]
    cue_neutral = [r for r in records if r.stance == NEUTRAL and any(c in r.text for c in LISTED_CUES)]
    word_neutral = [r for r in records if r.stance == NEUTRAL and not any(c in r.text for c in LISTED_CUES)
                    and any(w in r.text for w in words)]
    rng = random.Random(seed)
    chosen = framed + rng.sample(cue_neutral, min(neutral, len(cue_neutral))) + word_neutral
    rng.shuffle(chosen)
    out.mkdir(parents=True, exist_ok=True)
    for b in range(batches):
        with open(out / f"batch{b + 1}.jsonl", "w", encoding="utf-8") as f:
            for r in chosen[b::batches]:
                f.write(json.dumps({"id": r.id, "text": r.text}, ensure_ascii=False) + "\n")
    print(f"{len(framed)} framed + {min(neutral, len(cue_neutral))} of {len(cue_neutral)} neutral with a listed "
          f"cue word + {len(word_neutral)} neutral with {words} (none already read), in {batches} batches under {out}")


def read_checked(paths: list[Path]) -> dict:
    """Annotated records by id, each file passed by the shared checker and newsclf's reader (cues found verbatim)."""
    readings = {}
    for path in paths:
        if subprocess.run([sys.executable, str(CHECKER), str(path)], capture_output=True).returncode != 0:
            sys.exit(f"{path}: check_annotations.py refused it; run it to see the lines")
        readings.update((r.id, r) for r in read_records(path))
    return readings


def disagreements(train: Path, annotated: list[Path], out: Path, seed: int) -> None:
    readings, rng, rows = read_checked(annotated), random.Random(seed), []
    for r in read_records(train):
        second = readings.get(r.id)
        if second is not None and second.stance != r.stance:
            pair = [{"topics": list(x.topics), "stance": x.stance} for x in (r, second)]
            rng.shuffle(pair)
            rows.append({"id": r.id, "text": r.text, "reading_A": pair[0], "reading_B": pair[1]})
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    print(f"{len(rows)} of {len(readings)} read paragraphs differ from train on stance: {out}")


def add(train: Path, annotated: list[Path], adjudicated: list[Path]) -> None:
    readings, final = read_checked(annotated), read_checked(adjudicated)
    records = read_records(train)
    by_id = {r.id: r for r in records}
    missing = sorted(set(readings) - set(by_id))
    if missing:
        sys.exit(f"{len(missing)} annotated ids are not in {train}, e.g. {missing[:3]}")
    if set(final) - set(readings):
        sys.exit(f"adjudicated ids that no annotated batch read, e.g. {sorted(set(final) - set(readings))[:3]}")
    table, changed, kept = collections.Counter(), collections.Counter(), 0
    for i, r in enumerate(records):
        second = readings.get(r.id)
        if second is None:
            continue
        table[(r.stance, second.stance)] += 1
        meta = {k: v for k, v in r.meta.items() if k != CUES_FIELD}
        if r.id in final:
            decided = final[r.id]
            changed[(r.stance, decided.stance)] += 1
            meta[CUES_FIELD] = decided.meta[CUES_FIELD]
            records[i] = dataclasses.replace(r, topics=decided.topics, stance=decided.stance, meta=meta)
            continue
        if second.stance == r.stance and second.text == r.text:
            meta[CUES_FIELD], kept = second.meta[CUES_FIELD], kept + 1
        records[i] = dataclasses.replace(r, meta=meta)
    write_records(records, train)
    for (gold, blind), n in sorted(table.items()):
        print(f"train {gold:15s} blind {blind:15s} {n}")
    for (gold, decided), n in sorted(changed.items()):
        print(f"adjudicated: train {gold:15s} -> {decided:15s} {n}")
    print(f"cues added to {kept} of {len(readings)} read paragraphs and {sum(changed.values())} adjudicated ({train})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("select")
    s.add_argument("train", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--neutral", type=int, default=800)
    s.add_argument("--batches", type=int, default=8)
    s.add_argument("--seed", type=int, default=6)
    s.add_argument("--exclude", type=Path, action="append", default=[], help="a folder of batches already read")
    s.add_argument("--word", action="append", default=[], help="also read every neutral paragraph with this word")
    d = sub.add_parser("disagreements")
    d.add_argument("train", type=Path)
    d.add_argument("annotated", type=Path, nargs="+")
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--seed", type=int, default=8)
    a = sub.add_parser("add")
    a.add_argument("train", type=Path)
    a.add_argument("annotated", type=Path, nargs="+")
    a.add_argument("--adjudicated", type=Path, action="append", default=[],
                   help="an adjudicator's full records, replacing train's labels (once per round)")
    args = p.parse_args()
    if args.command == "select":
        select(args.train, args.out, args.neutral, args.batches, args.seed, args.exclude, args.word)
    elif args.command == "disagreements":
        disagreements(args.train, args.annotated, args.out, args.seed)
    else:
        add(args.train, args.annotated, args.adjudicated)


if __name__ == "__main__":
    main()
