"""Label a file of paragraphs: ``python scripts/predict.py IN OUT [--model M] [...]`` (``newsclf predict``)."""
import sys

from newsclf.cli import main

if __name__ == "__main__":
    sys.exit(main(["predict", *sys.argv[1:]]))
