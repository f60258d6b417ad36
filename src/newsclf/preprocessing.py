"""Text preprocessing stored with a model and applied identically in training and inference.

Two kinds: ``arabert`` uses the ``arabert`` package's ``ArabertPreprocessor`` for the
checkpoint's AraBERT model name (v02 models, no Farasa segmentation); ``normalize`` is a
light Arabic normaliser for other backbones: it removes diacritics (harakat, tanwin,
shadda, sukun, dagger alef) and tatweel, unifies whitespace, and keeps letters as written
(alef and ya variants are left alone because multilingual vocabularies distinguish them).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
TATWEEL = "\u0640"
SPACES = re.compile(r"\s+")
ARABERT_NAMES = ("bert-base-arabertv02", "bert-large-arabertv02", "bert-base-arabertv02-twitter",
                 "bert-large-arabertv02-twitter", "bert-base-arabertv2", "bert-large-arabertv2")


def normalize_arabic(text: str) -> str:
    """NFKC, strip diacritics and tatweel, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = DIACRITICS.sub("", text).replace(TATWEEL, "")
    return SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class PreprocessingSpec:
    """What preprocessing a model was trained with: ``kind`` and, for arabert, the model name."""

    kind: str = "normalize"
    model_name: str | None = None

    def __post_init__(self):
        if self.kind not in ("arabert", "normalize", "none"):
            raise ValueError(f"unknown preprocessing kind {self.kind!r}; use 'arabert', 'normalize' or 'none'")
        if self.kind == "arabert" and not self.model_name:
            raise ValueError("arabert preprocessing needs the AraBERT model_name")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_checkpoint(cls, checkpoint: str) -> PreprocessingSpec:
        """AraBERT preprocessing for AraBERT checkpoints, the Arabic normaliser for the rest."""
        name = checkpoint.rstrip("/").split("/")[-1].lower()
        if "arabert" in name:
            return cls("arabert", next((n for n in ARABERT_NAMES if n == name), "bert-base-arabertv02"))
        return cls("normalize")


@lru_cache(maxsize=8)
def _arabert(model_name: str):
    from arabert.preprocess import ArabertPreprocessor

    return ArabertPreprocessor(model_name=model_name)


def preprocessor(spec: PreprocessingSpec):
    """A function str -> str for the given spec."""
    if spec.kind == "arabert":
        return _arabert(spec.model_name).preprocess
    if spec.kind == "normalize":
        return normalize_arabic
    return lambda text: text


SENTENCE_END = re.compile(r"(?<=[.!؟?])\s+")


def split_paragraphs(article_text: str, min_words: int = 6, max_words: int = 150) -> list[str]:
    """Split an article into paragraphs the way the training data was made.

    Each non-empty line is a paragraph; a line shorter than ``min_words`` words is merged into
    the next one (headings, datelines); a line longer than ``max_words`` words is split at
    sentence ends into pieces of at most about ``max_words`` words.
    """
    if not isinstance(article_text, str):
        raise TypeError(f"article_text must be str, got {type(article_text).__name__}")
    paragraphs, carry = [], ""
    for line in article_text.splitlines():
        line = SPACES.sub(" ", line).strip()
        if not line:
            continue
        line = f"{carry} {line}".strip() if carry else line
        if len(line.split()) < min_words:
            carry = line
            continue
        carry = ""
        paragraphs.extend(_split_long(line, max_words))
    if carry:
        if paragraphs and len(carry.split()) < min_words:
            paragraphs[-1] = f"{paragraphs[-1]} {carry}"
        else:
            paragraphs.append(carry)
    return paragraphs


def _split_long(line: str, max_words: int) -> list[str]:
    if len(line.split()) <= max_words:
        return [line]
    pieces, current = [], []
    for sentence in SENTENCE_END.split(line):
        if current and len(" ".join(current + [sentence]).split()) > max_words:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces
