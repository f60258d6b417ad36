"""Reading labelled records (LABELS.md format) and unlabelled texts, with errors that name the place.

Labelled files are JSONL or CSV with the fields ``id``, ``text``, ``topics`` and ``stance``
(any other field, such as ``dataset`` or ``doc_id``, is kept). In CSV, ``topics`` is a
JSON list or the names joined by ``|`` (empty for none). A machine-labelled record may carry a teacher's
probabilities in ``soft`` (``{"topics": {name: p}, "stance": {name: p}}``), which training then learns
instead of the hard labels (distillation). A record may also carry its stance rationale in ``cues``: the
framing words an annotator marked, each ``{"text": words found verbatim in the paragraph, "side":
"pro_government" | "pro_opposition", "attributed": bool}``, which training can learn token by token
(``training.cue_loss_weight``). Every malformed line, unknown label
or missing field raises :class:`DataError` naming file, line and field: no row is dropped.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .labels import ATTRIBUTED, NEUTRAL, STANCES, TOPICS, stance_to_index, topics_to_vector

REQUIRED_FIELDS = ("id", "text", "topics", "stance")
SOFT_FIELD = "soft"
CUES_FIELD = "cues"
TEXT_FORMATS = (".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet")


class DataError(ValueError):
    """A data file that breaks the record format; the message names file, line and field."""

    def __init__(self, path, line: int | None, field_name: str | None, problem: str):
        where = f"{path}" + (f":{line}" if line is not None else "")
        what = f" field '{field_name}'" if field_name else ""
        super().__init__(f"{where}:{what} {problem}")
        self.path, self.line, self.field, self.problem = str(path), line, field_name, problem


@dataclass(frozen=True)
class Record:
    """One labelled paragraph; ``meta`` keeps any extra fields of the source line."""

    id: str
    text: str
    topics: tuple[str, ...]
    stance: str
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def document(self) -> str:
        return document_of(self.id, self.meta)


def document_of(paragraph_id: str, meta: dict) -> str:
    """A paragraph's document, which splits keep whole: its ``doc_id`` field, or the paragraph alone."""
    return str(meta.get("doc_id") or paragraph_id)


def read_records(path: str | Path) -> list[Record]:
    """All labelled records of a JSONL or CSV file, validated line by line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    records, seen = [], {}
    for line, raw in _raw_rows(path):
        record = _to_record(path, line, raw)
        if record.id in seen:
            raise DataError(path, line, "id", f"id {record.id!r} repeats (first at line {seen[record.id]})")
        seen[record.id] = line
        records.append(record)
    if not records:
        raise DataError(path, None, None, "no records")
    return records


def _raw_rows(path: Path) -> Iterator[tuple[int, dict]]:
    suffix = path.suffix.lower()
    with open(path, encoding="utf-8-sig", newline="") as f:  # -sig: a BOM (as Excel writes) is not data
        if suffix in (".jsonl", ".json"):
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(path, n, None, f"not valid JSON ({e.msg} at column {e.colno})") from None
                if not isinstance(row, dict):
                    raise DataError(path, n, None, f"expected a JSON object, got {type(row).__name__}")
                yield n, row
        elif suffix in (".csv", ".tsv"):
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            for row in reader:
                if None in row:
                    raise DataError(path, reader.line_num, None, "more cells than header columns")
                yield reader.line_num, row
        else:
            raise DataError(path, None, None, f"unsupported labelled-data format {suffix!r}; use .jsonl or .csv")


def _to_record(path: Path, line: int, row: dict) -> Record:
    for name in REQUIRED_FIELDS:
        if name not in row or row[name] is None:
            raise DataError(path, line, name, "is missing")
    rid, text, topics, stance = (row[k] for k in REQUIRED_FIELDS)
    if not isinstance(rid, (str, int)) or str(rid).strip() == "":
        raise DataError(path, line, "id", f"must be a non-empty string, got {rid!r}")
    if not isinstance(text, str) or not text.strip():
        raise DataError(path, line, "text", "must be a non-empty string")
    if isinstance(topics, str):  # CSV cell
        topics = _parse_topic_cell(path, line, topics)
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise DataError(path, line, "topics", f"must be a list of topic names, got {topics!r}")
    for t in topics:
        if t not in TOPICS:
            raise DataError(path, line, "topics", f"has unknown topic {t!r}; expected names from {list(TOPICS)}")
    if len(set(topics)) != len(topics):
        raise DataError(path, line, "topics", f"repeats a topic: {topics}")
    if stance not in STANCES:
        raise DataError(path, line, "stance", f"has unknown stance {stance!r}; expected one of {list(STANCES)}")
    meta = {k: v for k, v in row.items() if k not in REQUIRED_FIELDS}
    if SOFT_FIELD in meta:
        _check_soft(path, line, meta[SOFT_FIELD])
    if CUES_FIELD in meta:
        _check_cues(path, line, meta[CUES_FIELD], text)
    return Record(str(rid), text, tuple(t for t in TOPICS if t in topics), stance, meta)


def _check_soft(path: Path, line: int, soft) -> None:
    """A ``soft`` field holds a probability for every topic and a stance distribution (summing to 1)."""
    if not isinstance(soft, dict) or set(soft) != {"topics", "stance"}:
        raise DataError(path, line, SOFT_FIELD, 'must be {"topics": {...}, "stance": {...}}')
    for part, names in (("topics", TOPICS), ("stance", STANCES)):
        probs = soft[part]
        if not isinstance(probs, dict) or set(probs) != set(names):
            raise DataError(path, line, SOFT_FIELD, f"{part} must give a probability for each of {list(names)}")
        for name, p in probs.items():
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise DataError(path, line, SOFT_FIELD, f"{part}.{name} must be a probability in [0, 1], got {p!r}")
    total = sum(soft["stance"].values())
    if abs(total - 1) > 1e-3:
        raise DataError(path, line, SOFT_FIELD, f"stance probabilities sum to {total:.4f}, not 1")


def _check_cues(path: Path, line: int, cues, text: str) -> None:
    """A ``cues`` field is a list of ``{"text", "side", "attributed"}``, each text found in the paragraph."""
    if not isinstance(cues, list):
        raise DataError(path, line, CUES_FIELD, f"must be a list of cues, got {type(cues).__name__}")
    sides = [s for s in STANCES if s != NEUTRAL]
    for i, cue in enumerate(cues):
        where = f"{CUES_FIELD}[{i}]"
        if not isinstance(cue, dict) or set(cue) != {"text", "side", "attributed"}:
            raise DataError(path, line, where, 'must be {"text": ..., "side": ..., "attributed": true|false}')
        if not isinstance(cue["text"], str) or not cue["text"].strip() or cue["text"] not in text:
            raise DataError(path, line, f"{where}.text", f"{cue['text']!r} does not occur in the paragraph's text")
        if cue["side"] not in sides:
            raise DataError(path, line, f"{where}.side", f"must be one of {sides}, got {cue['side']!r}")
        if not isinstance(cue["attributed"], bool):
            raise DataError(path, line, f"{where}.attributed", f"must be true or false, got {cue['attributed']!r}")


def cue_spans(record: Record) -> list[tuple[int, int, str]]:
    """Character spans ``(start, end, tag)`` of a record's cues in its text, tags from ``labels.CUE_TAGS``.

    Cues with the same words take that text's occurrences in order, and occurrences beyond them take the
    last such cue's tag (an annotator who marks a repeated word once means every occurrence)."""
    tags: dict[str, list[str]] = {}
    for cue in record.meta.get(CUES_FIELD) or []:
        tags.setdefault(cue["text"], []).append(ATTRIBUTED if cue["attributed"] else cue["side"])
    spans = []
    for words, word_tags in tags.items():
        start, k = record.text.find(words), 0
        while start >= 0:
            spans.append((start, start + len(words), word_tags[min(k, len(word_tags) - 1)]))
            start, k = record.text.find(words, start + len(words)), k + 1
    return sorted(spans)


def has_cues(record: Record) -> bool:
    """Whether a record's stance rationale was annotated (an empty list counts: no framing words)."""
    return record.meta.get(CUES_FIELD) is not None


def _parse_topic_cell(path: Path, line: int, cell: str) -> list:
    cell = cell.strip()
    if cell.startswith("["):
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            raise DataError(path, line, "topics", f"not a valid JSON list: {cell!r}") from None
    return [t.strip() for t in cell.split("|") if t.strip()]


def label_arrays(records: list[Record]) -> tuple[np.ndarray, np.ndarray]:
    """Multi-hot topic matrix (N x topics) and stance indices (N) of records."""
    return (np.array([topics_to_vector(r.topics) for r in records], dtype=np.float32).reshape(-1, len(TOPICS)),
            np.array([stance_to_index(r.stance) for r in records], dtype=np.int64))


def target_arrays(records: list[Record]) -> tuple[np.ndarray, np.ndarray]:
    """Training targets: topic probabilities (N x topics) and stance distributions (N x stances), a
    record's ``soft`` teacher probabilities where it has them, else its gold labels (one-hot)."""
    topic, stance_index = label_arrays(records)
    stance = np.eye(len(STANCES), dtype=np.float32)[stance_index]
    for i, r in enumerate(records):
        if is_soft(r):
            topic[i] = [r.meta[SOFT_FIELD]["topics"][t] for t in TOPICS]
            stance[i] = [r.meta[SOFT_FIELD]["stance"][s] for s in STANCES]
    return topic, stance


def is_soft(record: Record) -> bool:
    """Whether a record carries a teacher's probabilities."""
    return record.meta.get(SOFT_FIELD) is not None


def write_records(records: list[Record], path: str | Path) -> None:
    """Write records as JSONL in the LABELS.md format (extra fields after the four required ones)."""
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            row = {"id": r.id, "text": r.text, "topics": list(r.topics), "stance": r.stance, **r.meta}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_texts(rows, path: str | Path) -> None:
    """Write ``{"id", "text"}`` JSONL (unlabelled input, e.g. an annotation batch) from dicts with those keys."""
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class InputRow:
    """One unlabelled text to classify, with its id and where it came from."""

    id: str
    text: object  # validated by the classifier, which names index and type
    line: int
    meta: dict = field(default_factory=dict, compare=False)  # the row's other fields (JSONL, CSV, TSV)

    @property
    def document(self) -> str:
        return document_of(self.id, self.meta)


def iter_texts(path: str | Path, text_field: str = "text", id_field: str = "id") -> Iterator[InputRow]:
    """Stream texts from JSONL, CSV/TSV, Parquet or plain text (one paragraph per line).

    Memory stays flat in the file size. A row without the text field raises DataError;
    rows without an id get ``"<line>"``; blank lines of a .txt file are skipped as separators.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        with open(path, encoding="utf-8-sig") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield InputRow(str(n), line.rstrip("\n"), n)
        return
    if suffix == ".parquet":
        yield from _iter_parquet(path, text_field, id_field)
        return
    if suffix not in (".jsonl", ".json", ".csv", ".tsv"):
        raise DataError(path, None, None, f"unsupported input format {suffix!r}; use one of {list(TEXT_FORMATS)}")
    for n, row in _raw_rows(path):
        if text_field not in row:
            raise DataError(path, n, text_field, "is missing")
        yield InputRow(str(row.get(id_field, n)), row[text_field], n,
                       {k: v for k, v in row.items() if k not in (text_field, id_field)})


def read_ids(path: str | Path, id_field: str = "id") -> set[str]:
    """The ids of a JSONL/CSV/TSV file (e.g. paragraphs already labelled); a row without one is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    ids = set()
    for n, row in _raw_rows(path):
        if row.get(id_field) in (None, ""):
            raise DataError(path, n, id_field, "is missing")
        ids.add(str(row[id_field]))
    return ids


def unlabelled_candidates(pool: str | Path, exclude: Sequence[str | Path] = (), text_field: str = "text",
                          id_field: str = "id", held_out: Sequence[str | Path] = ()) -> tuple[list[InputRow], dict]:
    """The rows of ``pool`` whose id is in no ``exclude`` file, whose document has no paragraph in a
    ``held_out`` labelled file (dev, test: splits are by document) and whose text is not empty, and how
    many of each kind were skipped; raises ValueError when none is left."""
    excluded: set[str] = set()
    for path in exclude:
        excluded |= read_ids(path, id_field)
    held_out_docs = {r.document for path in held_out for r in read_records(path)}
    rows, skipped = [], {"excluded": 0, "held_out_document": 0, "empty": 0}
    for row in iter_texts(pool, text_field, id_field):
        if row.id in excluded:
            skipped["excluded"] += 1
        elif row.document in held_out_docs:
            skipped["held_out_document"] += 1
        elif not isinstance(row.text, str) or not row.text.strip():
            skipped["empty"] += 1
        else:
            rows.append(row)
    if not rows:
        raise ValueError(f"{pool}: no candidates left after excluding {skipped['excluded']} labelled ids and "
                         f"{skipped['held_out_document']} paragraphs of held-out documents")
    return rows, skipped


def iter_rows(path: str | Path, columns: list[str] | None = None) -> Iterator[tuple[int, dict]]:
    """Stream ``(line, row)`` from JSONL, CSV/TSV or Parquet (row number from 1; of a Parquet file, only
    ``columns`` if given).

    For whole-file tables such as prediction files: memory stays flat in the file size.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    if path.suffix.lower() != ".parquet":
        yield from _raw_rows(path)
        return
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = [c for c in pf.schema_arrow.names if columns is None or c in columns]
    n = 0
    for batch in pf.iter_batches(columns=names, batch_size=4096):
        for row in batch.to_pylist():
            n += 1
            yield n, row


def _iter_parquet(path: Path, text_field: str, id_field: str) -> Iterator[InputRow]:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    if text_field not in names:
        raise DataError(path, None, text_field, f"is not a column (columns: {names})")
    for n, row in iter_rows(path):
        rid, text = row.pop(id_field, None), row.pop(text_field)
        yield InputRow(str(rid if rid is not None else n), text, n, row)
