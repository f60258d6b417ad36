"""Checks of user arguments at the public boundary, with errors that name the argument and what is allowed."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from .preprocessing import has_visible_text

ON_EMPTY = ("raise", "none")


def check_batch_size(value, name: str = "batch_size") -> int:
    """A positive int (``batch_size``, ``shard_size``); the error names the argument."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return value


def check_on_empty(on_empty) -> str:
    if on_empty not in ON_EMPTY:
        raise ValueError(f"on_empty must be one of {ON_EMPTY}, got {on_empty!r}")
    return on_empty


def as_text_list(texts) -> list:
    """A list of the items of ``texts`` (a str is not a list of texts)."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
        raise TypeError(f"texts must be a str or a list of str, got {type(texts).__name__}")
    return list(texts)


def text_problem(text) -> str | None:
    """Why a text cannot be classified (not a str, not valid Unicode), or None."""
    if not isinstance(text, str):
        return f"must be str, got {type(text).__name__}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return (f"is not valid Unicode: a lone surrogate {text[e.start]!r} at position {e.start} "
                "(decode the input with errors='replace' to keep such rows)")
    return None


def texts_to_run(texts: Sequence, on_empty: str = "raise") -> list[int]:
    """Indices of the texts to run; TypeError/ValueError naming the first bad item's index.

    A text with no visible character (only spaces, bidi marks, zero-width characters, no-break
    spaces) is empty: an error, or with ``on_empty="none"`` a no-content result."""
    check_on_empty(on_empty)
    keep = []
    for i, text in enumerate(texts):
        problem = text_problem(text)
        if problem:
            raise (TypeError if not isinstance(text, str) else ValueError)(f"text at index {i} {problem}")
        if has_visible_text(text):
            keep.append(i)
        elif on_empty == "raise":
            raise ValueError(f"text at index {i} has no visible characters "
                             "(pass on_empty='none' to get a no-content result instead)")
    return keep
