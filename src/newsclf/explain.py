"""Why a paragraph got a label: per-word integrated gradients, an HTML view, and a faithfulness check.

:func:`explain` attributes the probability the model reports for one label (a topic's sigmoid;
a stance's softmax after the model's ``stance_prior_weights``, i.e. what
:meth:`~newsclf.Classifier.predict_proba` reports) to the words of the paragraph, with
captum's integrated gradients over the input word vectors, in fp32. The baseline is the same
token sequence with every non-special token replaced by the pad token (CLS/SEP kept), so a word's
score is its share of ``p(text) - p(baseline)``; IG's convergence delta says how far the sum of
the scores is from that difference. A paragraph longer than one window is explained as
inference reads it: all its windows are interpolated together and combined as inference
combines them (topic: max over windows; stance: token-weighted mean), so a word in two
overlapping windows gets the sum of both. Sub-word pieces are summed into whitespace words.

:func:`comprehensiveness` is ERASER's faithfulness check: delete a paragraph's top-k attributed
words and, separately, k random words, and compare the drops of the explained probability.
"""
from __future__ import annotations

import bisect
import html
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .batching import pad_windows
from .labels import STANCES, TOPICS
from .validation import as_text_list, check_batch_size, texts_to_run

PREDICTED = ("stance", "topic")  # the predicted stance class; the highest-scoring topic
TARGETS = PREDICTED + STANCES + TOPICS
LABELS = TOPICS + STANCES  # the columns of the model's probability vector, topics first
WORD = re.compile(r"\S+")


@dataclass
class Explanation:
    """Per-word attributions of one paragraph's ``target`` label.

    ``words`` are the paragraph's whitespace-separated words (the original text's when
    preprocessing keeps the word count, else the preprocessed text's); ``scores`` has one
    attribution per word (positive: pushes the probability up). ``probability`` and
    ``baseline_probability`` are the target's probability for the text and for the all-pad
    baseline; ``delta`` is IG's convergence delta, ``sum(scores) - (probability - baseline_probability)``.
    """

    text: str
    target: str
    probability: float
    baseline_probability: float
    words: list[str]
    scores: list[float]
    delta: float

    def to_dict(self) -> dict:
        return asdict(self)


def check_target(target) -> str:
    """``target`` resolved (None is ``"stance"``); a ValueError listing the allowed values otherwise."""
    if target is None:
        return "stance"
    if not isinstance(target, str) or target not in TARGETS:
        raise ValueError(f"target must be None or one of {list(TARGETS)}, got {target!r}")
    return target


def explain(classifier, texts: str | Sequence[str], target: str | None = None, n_steps: int = 32,
            internal_batch_size: int = 16, progress: bool = False) -> Explanation | list[Explanation]:
    """Integrated-gradients word attributions of ``target`` for one paragraph (an Explanation) or a
    list (a list, in input order).

    ``target``: ``None`` or ``"stance"``: the predicted stance; ``"topic"``: the highest-scoring
    topic; a stance or topic name: that label (explain every topic by calling once per name).
    ``n_steps`` points on the path from baseline to text, run ``internal_batch_size`` at a time.
    Needs the torch backend (gradients)."""
    try:
        from captum.attr import IntegratedGradients
    except ImportError:
        raise ImportError("explanations need captum: pip install 'newsclf[explain]'") from None
    target = check_target(target)
    model = classifier.model
    if model is None:
        raise ValueError(f"explanations need gradients, which the {classifier.backend!r} backend does not give; "
                         "load the classifier with backend='torch'")
    single = isinstance(texts, str)
    items = [texts] if single else as_text_list(texts)
    texts_to_run(items)  # a non-str or empty text is an error naming its index
    model.eval()
    results = []
    for text in tqdm(items, desc="explain", unit="text", disable=not progress):
        inputs = _Inputs(classifier, text)
        with torch.no_grad():
            probs = inputs.probabilities(torch.cat([inputs.embeds, inputs.baseline]))
        column = _column(target, probs[0])
        ig = IntegratedGradients(inputs.probabilities)
        with torch.enable_grad():
            attributions, delta = ig.attribute(inputs.embeds, inputs.baseline, target=column, n_steps=n_steps,
                                               internal_batch_size=internal_batch_size,
                                               return_convergence_delta=True)
        token_scores = attributions.sum(-1).view(-1).detach().cpu().numpy()
        words, scores = inputs.word_scores(token_scores)
        results.append(Explanation(text, LABELS[column], float(probs[0, column]), float(probs[1, column]), words,
                                   scores, float(delta.item())))
    return results[0] if single else results


def _column(target: str, probs: torch.Tensor) -> int:
    """The column of ``probs`` (topics then stances) that ``target`` names for this text."""
    if target == "stance":
        return len(TOPICS) + int(probs[len(TOPICS):].argmax())
    if target == "topic":
        return int(probs[:len(TOPICS)].argmax())
    return LABELS.index(target)


class _Inputs:
    """One paragraph as the model reads it: its windows' word vectors, the all-pad baseline, and
    the map from tokens to the words shown."""

    def __init__(self, classifier, text: str):
        model, tokenizer, config = classifier.model, classifier.tokenizer, classifier.config
        if not tokenizer.is_fast:
            raise ValueError("explanations need a fast tokenizer (for character offsets)")
        self.model = model
        shown = classifier.preprocess(text)
        # the call of newsclf.batching.token_windows, with offsets
        enc = tokenizer([shown], truncation=True, max_length=config.max_seq_length, stride=config.window_stride,
                        return_overflowing_tokens=True, return_offsets_mapping=True, return_attention_mask=False,
                        return_token_type_ids=False)
        windows = [np.asarray(ids) for ids in enc["input_ids"]]
        ids, mask = pad_windows(windows, tokenizer.pad_token_id)
        special = np.isin(ids, tokenizer.all_special_ids)
        base_ids = np.where(special, ids, tokenizer.pad_token_id)
        device = model.device
        embed = model.get_input_embeddings()
        with torch.no_grad():
            width = ids.shape[1]  # every window padded to one width, flattened: one example for captum
            self.embeds = embed(torch.from_numpy(ids).to(device)).float().reshape(1, len(windows) * width, -1)
            self.baseline = embed(torch.from_numpy(base_ids).to(device)).float().reshape(1, len(windows) * width, -1)
        self.mask = torch.from_numpy(mask).to(device)
        lengths = torch.tensor([len(w) for w in windows], dtype=torch.float32, device=device)
        self.window_weights = lengths / lengths.sum()
        prior = config.stance_prior_weights
        self.prior = None if prior is None else torch.tensor(prior, dtype=torch.float32, device=device)
        original = text.split()
        self.words = original if len(original) == len(shown.split()) else shown.split()
        self.token_words = [word_index(shown, offsets) for offsets in enc["offset_mapping"]]

    def probabilities(self, embeds: torch.Tensor) -> torch.Tensor:
        """Topic then stance probabilities (k x 7) of k flattened window stacks, combined over windows as
        inference combines them (topics: max; stance: token-weighted mean, then the prior shift)."""
        n_windows, width = self.mask.shape
        k = embeds.shape[0]
        out = self.model(inputs_embeds=embeds.reshape(k * n_windows, width, -1), attention_mask=self.mask.repeat(k, 1))
        topic = torch.sigmoid(out.topic_logits.float()).view(k, n_windows, -1).amax(1)
        stance = torch.softmax(out.stance_logits.float(), -1).view(k, n_windows, -1)
        stance = (stance * self.window_weights[None, :, None]).sum(1)
        if self.prior is not None:
            stance = stance * self.prior
            stance = stance / stance.sum(-1, keepdim=True).clamp(min=1e-12)
        return torch.cat([topic, stance], -1)

    def word_scores(self, token_scores: np.ndarray) -> tuple[list[str], list[float]]:
        """The shown words and each one's summed token scores (every window's tokens, flattened)."""
        width = len(token_scores) // len(self.token_words)
        return self.words, aggregate_words(token_scores.reshape(-1, width), self.token_words, len(self.words))


def word_index(text: str, offsets: Sequence[tuple[int, int]]) -> list[int]:
    """For each token's character span in ``text``, the index of the whitespace word it falls in; a piece
    of only the space before a word (SentencePiece's lone ``▁``) counts for that word; -1 for special
    tokens (an empty span)."""
    ends = [m.end() for m in WORD.finditer(text)]
    first_after = [bisect.bisect_right(ends, start) for start, _ in offsets]  # the first word ending after start
    return [w if start < end and w < len(ends) else -1 for (start, end), w in zip(offsets, first_after)]


def aggregate_words(token_scores: np.ndarray, token_words: Sequence[Sequence[int]], n_words: int) -> list[float]:
    """Per-word sums of token scores: ``token_scores[w][t]`` goes to word ``token_words[w][t]``
    (windows x tokens; -1 and padding beyond a window's tokens are dropped)."""
    scores = np.zeros(n_words, dtype=np.float64)
    for row, owners in zip(token_scores, token_words):
        owners = np.asarray(owners, dtype=np.int64)
        keep = owners >= 0
        np.add.at(scores, owners[keep], row[:len(owners)][keep])
    return scores.tolist()


# ---- faithfulness -------------------------------------------------------------------------------------------

def comprehensiveness(classifier, texts: Sequence[str] | Sequence[Explanation], k: int | float = 3,
                      target: str | None = None, seed: int = 0, repeats: int = 1, batch_size: int = 32,
                      progress: bool = False, **explain_kwargs) -> dict:
    """ERASER comprehensiveness: for each paragraph, the drop of its explained label's probability when its
    ``k`` highest-scoring words are deleted, and when ``k`` random words are deleted (seeded; the mean drop
    over ``repeats`` independent draws).

    ``texts`` are paragraphs (explained here for ``target``) or their :class:`Explanation`\\ s. ``k`` is a
    number of words, or a fraction of each paragraph's words (``0.1``: 10 %, at least one); a paragraph
    always keeps one word. Faithful attributions make the top-k drop larger than the random drop."""
    check_batch_size(repeats, "repeats")
    items = as_text_list(texts)
    explanations = items if all(isinstance(e, Explanation) for e in items) else \
        explain(classifier, items, target, progress=progress, **explain_kwargs)
    rng = np.random.default_rng(seed)
    rows, variants = [], []
    for e in explanations:
        n = words_to_delete(k, len(e.words))
        top = np.argsort(-np.asarray(e.scores), kind="stable")[:n].tolist()
        rand = [sorted(rng.choice(len(e.words), size=n, replace=False).tolist()) for _ in range(repeats)]
        rows.append({"target": e.target, "top_k": sorted(top), "random_k": rand})
        variants += [" ".join(e.words), delete_words(e.words, top), *(delete_words(e.words, r) for r in rand)]
    topic, stance = classifier.predict_proba(variants, batch_size=batch_size, progress=progress)
    probs = np.concatenate([topic, stance], 1).reshape(len(rows), 2 + repeats, len(LABELS))
    for row, p in zip(rows, probs):
        before, after_top, *after_random = p[:, LABELS.index(row["target"])].tolist()
        row |= {"probability": before, "top_k_drop": before - after_top,
                "random_k_drop": before - float(np.mean(after_random))}
    mean = lambda key: float(np.mean([r[key] for r in rows])) if rows else float("nan")  # noqa: E731
    return {"k": k, "seed": seed, "n_texts": len(rows), "top_k_drop": mean("top_k_drop"),
            "random_k_drop": mean("random_k_drop"), "per_text": rows}


def words_to_delete(k: int | float, n_words: int) -> int:
    """How many of ``n_words`` words to delete for ``k`` (a count, or a fraction in (0, 1)); one word stays."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or k <= 0 or (isinstance(k, float) and k >= 1):
        raise ValueError(f"k must be a positive int (words) or a float in (0, 1) (share of words), got {k!r}")
    n = k if isinstance(k, int) else math.ceil(k * n_words)
    return max(0, min(n, n_words - 1))


def delete_words(words: Sequence[str], indices: Sequence[int]) -> str:
    """The text of ``words`` without the words at ``indices``, joined by spaces."""
    drop = set(indices)
    return " ".join(w for i, w in enumerate(words) if i not in drop)


# ---- HTML ---------------------------------------------------------------------------------------------------

POSITIVE, NEGATIVE = (33, 102, 172), (202, 0, 32)  # blue: towards the label; red: against (colour-blind safe)
MAX_ALPHA = 0.7
PAGE_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; }
.legend { font-size: .95em; margin-bottom: 1.5em; }
.swatch { display: inline-block; width: 1.1em; height: 1.1em; vertical-align: middle; border-radius: 3px; }
.bar { display: inline-block; width: 12em; height: 1em; vertical-align: middle; border-radius: 3px;
       background: linear-gradient(to right, rgba(202,0,32,.7), rgba(202,0,32,0) 50%, rgba(33,102,172,0) 50%,
       rgba(33,102,172,.7)); border: 1px solid #ccc; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .8em 1.2em; margin-bottom: 1.2em; }
.head { font-size: .95em; color: #444; }
.label { font-weight: bold; color: #000; }
p.text { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "Scheherazade New", "Arial", serif;
         font-size: 1.35em; line-height: 2.1; margin: .5em 0; text-align: justify; }
.w { border-radius: 4px; padding: .08em .12em; }
"""


def explanation_html(explanations: Explanation | Sequence[Explanation], title: str = "newsclf explanations") -> str:
    """A self-contained HTML page (inline CSS, no script, nothing fetched) showing each paragraph right to
    left with every word shaded in place: blue pushes the label's probability up, red down, stronger
    for a larger share of the paragraph's largest |score|; hovering a word shows its score."""
    if isinstance(explanations, Explanation):
        explanations = [explanations]
    cards = "\n".join(_card(e) for e in explanations)
    legend = ('<div class="legend"><span class="swatch" style="background: rgba(33,102,172,.7)"></span> raises '
              'the probability of the label &nbsp; <span class="swatch" style="background: rgba(202,0,32,.7)">'
              '</span> lowers it &nbsp; <span class="bar"></span> shade: the word\'s score as a share of the '
              'paragraph\'s largest; hover a word for its score. Integrated gradients: a paragraph\'s scores add up '
              'to its probability minus the baseline\'s (every word replaced by padding), up to the delta.</div>')
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>'
            f'\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n{legend}\n{cards}\n'
            '</body>\n</html>\n')


def _card(e: Explanation) -> str:
    largest = max((abs(s) for s in e.scores), default=0.0) or 1.0
    spans = " ".join(f'<span class="w" style="background: {word_colour(s / largest)}" title="{s:+.4f}">'
                     f"{html.escape(w)}</span>" for w, s in zip(e.words, e.scores))
    delta = round(e.delta, 3) + 0.0  # no "-0.000"
    head = (f'<div class="head">label <span class="label">{html.escape(e.target)}</span>, probability '
            f'{e.probability:.2f} (baseline {e.baseline_probability:.2f}, IG delta {delta:+.3f})</div>')
    return f'<div class="card">\n{head}\n<p class="text" dir="rtl" lang="ar">{spans}</p>\n</div>'


def word_colour(share: float) -> str:
    """CSS colour of a word whose score is ``share`` (in [-1, 1]) of the paragraph's largest |score|."""
    rgb = POSITIVE if share >= 0 else NEGATIVE
    return f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {MAX_ALPHA * min(abs(share), 1.0):.3f})"
