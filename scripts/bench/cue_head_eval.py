"""How well a model's cue head (``training.cue_loss_weight``) finds stance cues, and what stance they give.

1. Token tags: on records with ``cues`` (e.g. dev paragraphs read with their framing words marked),
   per-tag token precision, recall and F1 of the head's argmax over the tokens training would see
   (the first ``max_seq_length``).
2. Stance from cues: on a labelled file, each paragraph's strongest writer's-own cue (the highest
   probability of either side's own-cue tag over its tokens) decides its stance when that probability
   passes a threshold, else neutral (LABELS.md: "the writer's strongest unattributed cue decides").
   Its stance macro-F1 is printed at 0.5 and at the best threshold on that file (optimistic when the
   file is the one thresholds are chosen on), beside the stance head's on the same first window.

    python scripts/bench/cue_head_eval.py runs/v8-cues/model data/dev.jsonl \
        --cues data/annotation/cues-dev/annotated/batch*.jsonl
"""
import argparse

import numpy as np
import torch
from sklearn.metrics import f1_score, precision_recall_fscore_support
from tqdm import tqdm
from transformers import AutoTokenizer

from newsclf.data import has_cues, label_arrays, read_records
from newsclf.labels import CUE_TAGS, STANCES
from newsclf.modeling import NewsClfModel
from newsclf.preprocessing import PreprocessingSpec, preprocessor
from newsclf.trainer import CueCollator, encode

OWN = [CUE_TAGS.index(s) for s in STANCES[:2]]  # the writer's-own cue tags, in STANCES order


@torch.no_grad()
def run(model, tokenizer, records, preprocess, batch_size: int):
    """Per record: the token tags and argmax tags (known tokens only), the max own-cue probability of each
    side, and the stance head's probabilities, all on the first window."""
    data = encode(records, tokenizer, preprocess, model.config.max_seq_length, cues=True)
    collate = CueCollator(tokenizer)
    true, pred, sides, stance = [], [], [], []
    for start in tqdm(range(0, len(records), batch_size), desc="cue head"):
        batch = collate([{k: data[i][k] for k in ("input_ids", "attention_mask", "cue_labels")}
                         for i in range(start, min(start + batch_size, len(records)))])
        hidden = model.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        _, stance_logits, _ = model.heads(hidden, batch["attention_mask"])
        probs = torch.softmax(model.cue_head(hidden).float(), -1)
        known, tokens = batch["cue_labels"] != -100, batch["attention_mask"].bool()
        true += batch["cue_labels"][known].tolist()
        pred += probs.argmax(-1)[known].tolist()
        sides.append((probs[:, :, OWN] * tokens[:, :, None]).amax(1))
        stance.append(torch.softmax(stance_logits.float(), -1))
    return true, pred, torch.cat(sides).numpy(), torch.cat(stance).numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("labelled", help="records whose stance the cues should give (e.g. data/dev.jsonl)")
    p.add_argument("--cues", nargs="*", default=[], help="records with cues, for the token scores")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()
    model = NewsClfModel.from_pretrained(args.model).eval()
    if model.cue_head is None:
        raise SystemExit(f"{args.model} has no cue head (trained with training.cue_loss_weight 0)")
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    preprocess = preprocessor(PreprocessingSpec(**model.config.preprocessing))
    annotated = [r for path in args.cues for r in read_records(path) if has_cues(r)]
    if annotated:
        true, pred, _, _ = run(model, tokenizer, annotated, preprocess, args.batch_size)
        precision, recall, f1, support = precision_recall_fscore_support(true, pred, labels=range(len(CUE_TAGS)),
                                                                         zero_division=0)
        print(f"token tags: {len(annotated)} paragraphs, {len(true)} tokens")
        for i, tag in enumerate(CUE_TAGS):
            print(f"  {tag:15s} precision {precision[i]:.3f} recall {recall[i]:.3f} F1 {f1[i]:.3f} "
                  f"(tokens {support[i]})")
    records = read_records(args.labelled)
    _, gold = label_arrays(records)
    _, _, sides, stance = run(model, tokenizer, records, preprocess, args.batch_size)

    def from_cues(threshold: float) -> np.ndarray:
        return np.where(sides.max(1) > threshold, sides.argmax(1), STANCES.index("neutral"))

    macro = lambda p: f1_score(gold, p, labels=range(len(STANCES)), average="macro")  # noqa: E731
    best = max(np.arange(0.05, 1.0, 0.05), key=lambda t: macro(from_cues(t)))
    print(f"stance macro-F1 on {args.labelled} ({len(records)} paragraphs, first window): "
          f"from cues {macro(from_cues(0.5)):.3f} at 0.5, {macro(from_cues(best)):.3f} at {best:.2f} (best here); "
          f"stance head {macro(stance.argmax(1)):.3f} (argmax, no prior weights)")


if __name__ == "__main__":
    main()
