"""Train from a YAML config: ``python scripts/train.py configs/X.yaml [--resume]``."""
import sys

from newsclf.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
