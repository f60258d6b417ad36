"""Make the test fixtures: a labelled sample of the dataset in tests/data/ and the tiny BERT
(tests/fixtures/tiny-bert) that configs/tiny-test.yaml trains from.

    python scripts/release/make_test_fixtures.py
"""
import json
import random
from pathlib import Path

from newsclf.testing import build_tiny_bert

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"train": 120, "dev": 40, "test": 40}


def sample(split: str, n: int, rng: random.Random) -> list[dict]:
    """Up to a third of the sample from each stance, so every label appears."""
    rows = [json.loads(line) for line in open(ROOT / "data" / f"{split}.jsonl", encoding="utf-8")]
    picked = []
    for stance in ("pro_government", "pro_opposition", "neutral"):
        pool = [r for r in rows if r["stance"] == stance]
        picked += rng.sample(pool, min(len(pool), n // 3 if stance != "neutral" else n - len(picked)))
    rng.shuffle(picked)
    return picked


def main():
    rng = random.Random(0)
    out = ROOT / "tests" / "data"
    out.mkdir(parents=True, exist_ok=True)
    texts = []
    for split, n in SIZES.items():
        rows = sample(split, n, rng)
        texts += [r["text"] for r in rows]
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    build_tiny_bert(texts, ROOT / "tests" / "fixtures" / "tiny-bert")
    print(f"wrote {sum(SIZES.values())} records to {out} and the tiny BERT")


if __name__ == "__main__":
    main()
