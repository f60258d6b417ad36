"""The one definition of newsclf's labels (``LABELS.md``, shipped in the package), used everywhere else.

Topics are multi-label in a fixed order; stance is a single label in a fixed order.
Data loading, the model's heads and config, metrics, the CLI and the docs all read these.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

LABEL_GUIDE = Path(__file__).with_name("LABELS.md")

TOPICS: tuple[str, ...] = ("military", "humanitarian", "diplomatic", "displacement")
STANCES: tuple[str, ...] = ("pro_government", "pro_opposition", "neutral")
NEUTRAL = "neutral"
# Token tags of a stance rationale (the framing words an annotator marked, LABELS.md's stance cues):
# not a cue, the writer's own cue for one side, or a cue that is attributed and so does not count.
ATTRIBUTED = "attributed"
CUE_TAGS: tuple[str, ...] = ("none", *(s for s in STANCES if s != NEUTRAL), ATTRIBUTED)

TOPIC_DESCRIPTIONS = {
    "military": "fighting and security operations",
    "humanitarian": "the condition and relief of civilians",
    "diplomatic": "politics between states, bodies and parties about the war",
    "displacement": "people leaving or made to leave their homes",
}
STANCE_DESCRIPTIONS = {
    "pro_government": "the writer adopts the Syrian government's frame",
    "pro_opposition": "the writer adopts the opposition's frame",
    "neutral": "neutral terms and attribution, or nothing that frames the conflict",
}


def topics_to_vector(topics: Iterable[str]) -> list[float]:
    """Multi-hot vector in TOPICS order; raises ValueError on an unknown topic."""
    topics = list(topics)
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        raise ValueError(f"unknown topic {unknown[0]!r}; expected one of {list(TOPICS)}")
    return [1.0 if t in topics else 0.0 for t in TOPICS]


def vector_to_topics(flags: Sequence[bool]) -> list[str]:
    """Topic names, in TOPICS order, whose flag is set."""
    return [t for t, on in zip(TOPICS, flags) if on]


def stance_to_index(stance: str) -> int:
    """Index of a stance in STANCES; raises ValueError on an unknown stance."""
    try:
        return STANCES.index(stance)
    except ValueError:
        raise ValueError(f"unknown stance {stance!r}; expected one of {list(STANCES)}") from None


def label_guide() -> str:
    """The whole label guide, LABELS.md (also ``newsclf labels``)."""
    return LABEL_GUIDE.read_text(encoding="utf-8")
