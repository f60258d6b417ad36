"""The README's explanation example: chosen test paragraphs, each with its label, explained by the
default model (integrated gradients, 128 steps) on one self-contained page.

    python scripts/docs/explain_example.py docs/explain_example.html
    python scripts/docs/screenshot.py docs/explain_example.html docs/img/explain.png --width 1100
"""
import argparse
from pathlib import Path

from newsclf import Classifier, read_records
from newsclf.explain import explanation_html

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = (("ant-skynews-SK-middleEast-564-20180326-p01", "pro_government"),
            ("ant-bbc-BB-middleEast-952-20180907-p21", "pro_opposition"),
            ("ant-bbc-BB-middleEast-313-20180408-p02", "humanitarian"),
            ("ant-skynews-SK-middleEast-567-20180326-p06", "displacement"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=128)
    args = p.parse_args()
    texts = {r.id: r.text for r in read_records(ROOT / "data" / "test.jsonl")}
    clf = Classifier.from_pretrained(None, device="cpu", backend="torch")
    explanations = [clf.explain(texts[i], target=target, n_steps=args.steps) for i, target in EXAMPLES]
    Path(args.out).write_text(explanation_html(explanations, title="Why the default model chose these labels"),
                              encoding="utf-8")
    for (i, target), e in zip(EXAMPLES, explanations):
        top = sorted(zip(e.scores, e.words), reverse=True)[:2]
        print(f"{i} {target} p={e.probability:.2f} top words: {[w for _, w in top]}")


if __name__ == "__main__":
    main()
