"""Whole articles in, labelled paragraphs out: cutting each article the way the training data was cut.

An article is a row with an id, a text and any metadata (outlet, date, url, ...). Its paragraphs
(:func:`newsclf.preprocessing.split_paragraphs`) become rows of their own, with the id
``<article id>-pNNN``, the fields ``article_id`` and ``paragraph_index``, and the article's
metadata. An article with no visible text gives one row with an empty text, so that it is
reported (as an error, or as a no-content row with ``on_empty="none"``), never silently lost.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .data import InputRow
from .preprocessing import split_paragraphs


def paragraph_rows(article: InputRow) -> list[InputRow]:
    """The paragraphs of one article (a row whose text is a str) as input rows of their own."""
    paragraphs = split_paragraphs(article.text) or [""]
    return [InputRow(f"{article.id}-p{i:03d}", text, article.line,
                     {"article_id": article.id, "paragraph_index": i, **article.meta})
            for i, text in enumerate(paragraphs)]


def article_rows(articles: Iterable[str | Mapping]) -> list[InputRow]:
    """Articles given as texts (ids "0", "1", ...) or as mappings with ``text``, an optional ``id``
    and any other fields (kept as metadata), as input rows; a mapping without ``text`` is a KeyError
    naming its index."""
    rows = []
    for i, article in enumerate(articles):
        if isinstance(article, Mapping):
            if "text" not in article:
                raise KeyError(f"article {i} has no 'text' field (fields: {sorted(article)})")
            meta = {k: v for k, v in article.items() if k not in ("id", "text")}
            rows.append(InputRow(str(article.get("id", i)), article["text"], i, meta))
        else:
            rows.append(InputRow(str(i), article, i))
    return rows


@dataclass
class ArticleParagraph:
    """One paragraph of an article with its labels: what :meth:`Classifier.classify_articles` returns."""

    article_id: str
    paragraph_index: int
    text: str
    prediction: object  # a newsclf.inference.Prediction
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"id": f"{self.article_id}-p{self.paragraph_index:03d}", "article_id": self.article_id,
                "paragraph_index": self.paragraph_index, **self.meta, "text": self.text, **self.prediction.to_dict()}
