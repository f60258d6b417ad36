"""Choose the paragraphs to annotate and write annotator batches (ids and texts only).

Cue words only decide *what* is annotated, never a label: every label comes from an
annotator reading the paragraph against LABELS.md. The draw is deterministic (seed 13).

    python scripts/sample_for_annotation.py ../shared/corpus/paragraphs.jsonl data/annotation
"""
import argparse
import json
import random
import re
from pathlib import Path

from newsclf.data import write_texts

GOV_OUTLETS = {"sana.sy", "almanar.com.lb", "alalam.ir", "almayadeen.net", "addiyar.com", "alwatan.sy",
               "sputniknews.com", "rt.com", "alkawthartv.com", "baath-party.org"}
OPP_OUTLETS = {"orient-news.net", "enabbaladi.net", "smartnews-agency.com", "shaam.org", "zamanalwsl.net",
               "alsouria.net", "syrian-reporter.net", "jisrtv.com"}
GOV_CUES = re.compile(r"الجيش العربي السوري|الجيش السوري وحلفاؤه|الإرهابيين|الارهابيين|المجموعات المسلحة|"
                      r"المجموعات الإرهابية|الجماعات الإرهابية|المسلحين|تطهير|إعادة الأمن")
OPP_CUES = re.compile(r"نظام الأسد|نظام الاسد|قوات الأسد|قوات الاسد|ميليشيات|الثوار|المحرر|شبيحة|الاحتلال الروسي")
DISPLACEMENT_CUES = re.compile(r"نازح|لاجئ|تهجير|إجلاء|اجلاء|مخيمات|فروا|النزوح|الحافلات")

# (stratum name, how many to draw; None = all)
PLAN = [("seed", None), ("gov_outlet", None), ("opp_outlet", 450), ("gov_cue", 700),
        ("opp_cue", 250), ("non_syria", 380), ("displacement_cue", 300), ("random", 350)]


def stratum_of(r):
    """The first stratum a paragraph belongs to, in PLAN order."""
    if r["dataset"] == "seed":
        return "seed"
    if r["outlet"] in GOV_OUTLETS:
        return "gov_outlet"
    if r["outlet"] in OPP_OUTLETS:
        return "opp_outlet"
    if GOV_CUES.search(r["text"]):
        return "gov_cue"
    if OPP_CUES.search(r["text"]):
        return "opp_cue"
    if not r["syria"]:
        return "non_syria"
    if DISPLACEMENT_CUES.search(r["text"]):
        return "displacement_cue"
    return "random"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("corpus")
    p.add_argument("out")
    p.add_argument("--annotators", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--second", type=int, default=400, help="paragraphs annotated a second time")
    args = p.parse_args()
    rng = random.Random(13)
    rows = [json.loads(line) for line in open(args.corpus, encoding="utf-8")]
    strata = {}
    for r in rows:
        strata.setdefault(stratum_of(r), []).append(r)
    chosen = []
    for name, n in PLAN:
        pool = strata.get(name, [])
        picked = pool if n is None or n >= len(pool) else rng.sample(pool, n)
        chosen += [dict(r, stratum=name) for r in picked]
    rng.shuffle(chosen)
    out = Path(args.out)
    (out / "batches").mkdir(parents=True, exist_ok=True)
    # primary batches, dealt round-robin to annotators
    batches = [chosen[i:i + args.batch_size] for i in range(0, len(chosen), args.batch_size)]
    manifest = []
    for b, batch in enumerate(batches):
        name = f"primary-{b:03d}"
        write_texts(batch, out / "batches" / f"{name}.jsonl")
        manifest.append({"batch": name, "annotator": b % args.annotators, "ids": [r["id"] for r in batch]})
    # second annotation: a random subset, each paragraph given to an annotator other than its first
    first = {i: m["annotator"] for m in manifest for i in m["ids"]}
    second = rng.sample(chosen, args.second)
    per = {a: [] for a in range(args.annotators)}
    for r in second:
        per[(first[r["id"]] + 1 + rng.randrange(args.annotators - 1)) % args.annotators].append(r)
    for a, items in per.items():
        name = f"second-{a:03d}"
        write_texts(items, out / "batches" / f"{name}.jsonl")
        manifest.append({"batch": name, "annotator": a, "ids": [r["id"] for r in items]})
    with open(out / "sample.jsonl", "w", encoding="utf-8") as f:
        for r in chosen:
            f.write(json.dumps({k: r[k] for k in ("id", "dataset", "outlet", "doc_id", "stratum")},
                               ensure_ascii=False) + "\n")
    with open(out / "manifest.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    counts = {name: sum(r["stratum"] == name for r in chosen) for name, _ in PLAN}
    print(f"{len(chosen)} paragraphs in {len(batches)} primary batches; {args.second} for a second reading; {counts}")


if __name__ == "__main__":
    main()
