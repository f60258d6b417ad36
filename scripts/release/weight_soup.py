"""Average the weights of trained models into one model folder (``newsclf.modeling.weight_soup``).

A soup of runs from the same initialisation (or of one run's checkpoints) is one encoder, so it can
ship as the default where a probability average of several cannot. Its decision rules are reset:
compare it with ``scripts/bench/compare_models.py``, which tunes them on dev.

    python scripts/release/weight_soup.py default runs/v11/model --out runs/soup-v8v11/model
"""
import argparse
import shutil
from pathlib import Path

from newsclf import Classifier
from newsclf.modeling import weight_soup


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="model folders (or checkpoints), or 'default' (the bundled model)")
    p.add_argument("--out", required=True,
                   help="folder for the soup: model, tokenizer, and the first training_config.yaml found")
    args = p.parse_args()
    classifiers = [Classifier.from_pretrained(None if m == "default" else m, device="cpu", backend="torch",
                                              precision="fp32") for m in args.models]
    out = Path(args.out)
    weight_soup([c.model for c in classifiers]).save_pretrained(out)
    classifiers[0].tokenizer.save_pretrained(out)
    for m in args.models:
        if (Path(m) / "training_config.yaml").is_file():
            shutil.copy(Path(m) / "training_config.yaml", out / "training_config.yaml")  # what made the run
            break
    print(f"{out}: the average of {len(args.models)} models' weights ({', '.join(args.models)})")


if __name__ == "__main__":
    main()
