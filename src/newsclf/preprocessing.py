"""Text preprocessing stored with a model and applied identically in training and inference.

First, unless ``strip_markup`` is off, HTML/XML markup is removed (tags, comments, script and
style blocks) and character entities are decoded, so a scraped paragraph and its clean text get
the same labels. Then one of two kinds: ``arabert`` uses the ``arabert`` package's ``ArabertPreprocessor`` for the
checkpoint's AraBERT model name (v02 models, no Farasa segmentation); ``normalize`` is a
light Arabic normaliser for other backbones: it removes diacritics (harakat, tanwin,
shadda, sukun, dagger alef) and tatweel, unifies whitespace, and keeps letters as written
(alef and ya variants are left alone because multilingual vocabularies distinguish them).
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
TATWEEL = "\u0640"
SPACES = re.compile(r"\s+")
MARKUP_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Cn", "Co", "Cs"}
ARABERT_NAMES = ("bert-base-arabertv02", "bert-large-arabertv02", "bert-base-arabertv02-twitter",
                 "bert-large-arabertv02-twitter", "bert-base-arabertv2", "bert-large-arabertv2")


def strip_markup(text: str) -> str:
    """Remove tags, comments, script/style blocks; decode entities (``&amp;`` -> ``&``); a tag becomes a space."""
    if "<" in text:
        text = TAG.sub(" ", MARKUP_BLOCKS.sub(" ", text))
    return html.unescape(text) if "&" in text else text


def has_visible_text(text: str) -> bool:
    """True when some character is neither space, control, format (bidi marks, zero-width) nor unassigned."""
    return any(unicodedata.category(ch) not in INVISIBLE_CATEGORIES for ch in text)


def normalize_arabic(text: str) -> str:
    """NFKC, strip diacritics and tatweel, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = DIACRITICS.sub("", text).replace(TATWEEL, "")
    return SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class PreprocessingSpec:
    """What preprocessing a model was trained with: ``kind``, for arabert the model name, and whether
    markup is stripped first (on for models saved before the option existed too)."""

    kind: str = "normalize"
    model_name: str | None = None
    strip_markup: bool = True

    def __post_init__(self):
        if self.kind not in ("arabert", "normalize", "none"):
            raise ValueError(f"unknown preprocessing kind {self.kind!r}; use 'arabert', 'normalize' or 'none'")
        if self.kind == "arabert" and not self.model_name:
            raise ValueError("arabert preprocessing needs the AraBERT model_name")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def resolve(cls, choice: str, checkpoint: str, strip_markup: bool = True) -> PreprocessingSpec:
        """The spec for a config's ``preprocessing`` choice: ``auto`` is AraBERT preprocessing for AraBERT
        checkpoints and the Arabic normaliser for the rest; ``arabert`` uses the checkpoint's AraBERT name."""
        name = checkpoint.rstrip("/").split("/")[-1].lower()
        arabert_name = next((n for n in ARABERT_NAMES if n == name), "bert-base-arabertv02")
        if choice == "auto":
            choice = "arabert" if "arabert" in name else "normalize"
        return cls(choice, arabert_name if choice == "arabert" else None, strip_markup)


@lru_cache(maxsize=8)
def _arabert(model_name: str):
    from arabert.preprocess import ArabertPreprocessor

    return ArabertPreprocessor(model_name=model_name)


def preprocessor(spec: PreprocessingSpec):
    """A function str -> str for the given spec."""
    if spec.kind == "arabert":
        kind = _arabert(spec.model_name).preprocess
    elif spec.kind == "normalize":
        kind = normalize_arabic
    else:
        kind = str
    if not spec.strip_markup:
        return kind
    return lambda text: kind(strip_markup(text))


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
