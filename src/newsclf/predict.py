"""Batch prediction over files of any size: streamed input, sharded output, resumable.

Input rows are read as a stream (JSONL, CSV/TSV, Parquet or plain text) and cut into shards
of ``shard_size`` rows. Each shard is classified and written to ``<shards>/part-NNNNN.<fmt>``
through a temporary file and an atomic rename, so a shard file on disk is always complete.
The job's parameters (input fingerprint, shard size, model, format, on-empty, fields) are
recorded in ``<shards>/job.json``. ``resume=True`` continues exactly that job, skipping shards
already on disk and checking that each holds the rows the input has for it, or refuses with an
error naming what differs; re-running an interrupted job therefore gives exactly one output row
per input row, and a job only reports success when that holds. When every shard is done they
are joined into the output file (again through an atomic rename), unless the output is a
directory. Under ``accelerate launch`` each process takes every n-th shard.

Output rows hold the id, the input row's other fields (metadata such as outlet or date; a field
named like a prediction field is kept as ``input_<name>``) and the prediction. JSONL keeps the
scores as objects; CSV and Parquet have one column per score (:func:`flat_row`, the layout the
Ray engine writes too). With ``articles=True`` each input row is a whole article and each of its
paragraphs gets an output row (:mod:`newsclf.articles`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from .articles import paragraph_rows
from .data import DataError, InputRow, iter_texts
from .inference import Classifier, Prediction
from .labels import STANCES, TOPICS
from .validation import check_batch_size, check_on_empty, text_problem

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")
PREDICTION_FIELDS = ("topics", "topic_scores", "stance", "stance_scores", "no_content")
SCORE_COLUMNS = (*(f"topic_{t}" for t in TOPICS), *(f"stance_{s}" for s in STANCES))


def output_row(row: InputRow, p: Prediction) -> dict:
    """The id, the input's metadata (``input_<name>`` where a name clashes with the output's) and the prediction."""
    taken = {"id", *PREDICTION_FIELDS, *SCORE_COLUMNS}
    meta = {(f"input_{k}" if k in taken else k): v for k, v in row.meta.items()}
    return {"id": row.id, **meta, **p.to_dict()}


def flat_row(row: dict) -> dict:
    """An output row with one column per score (CSV, Parquet, Ray): id, metadata, topics, topic_<name>,
    stance, stance_<name>, no_content."""
    out = {k: v for k, v in row.items() if k not in PREDICTION_FIELDS}
    out["topics"] = list(row["topics"])
    out.update({f"topic_{t}": float(row["topic_scores"][t]) for t in TOPICS})
    out["stance"] = row["stance"]
    out.update({f"stance_{s}": float(row["stance_scores"][s]) for s in STANCES})
    out["no_content"] = bool(row["no_content"])
    return out


def format_rows(rows: list[dict], fmt: str, columns: list[str]) -> str:
    """Rows as JSONL, or as CSV (``columns`` in order, a header, topics joined by ``|``)."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)  # dates as text
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", extrasaction="raise")
    writer.writeheader()
    for r in map(flat_row, rows):
        r |= {"topics": "|".join(r["topics"]), "no_content": int(r["no_content"]),
              **{c: f"{r[c]:.5f}" for c in SCORE_COLUMNS}}
        writer.writerow(r)
    return buf.getvalue()


def csv_columns(first: InputRow | None) -> list[str]:
    """The CSV header of a job: the first input row's fields set the metadata columns."""
    return list(flat_row(output_row(first or InputRow("", "", 0), Prediction.empty())))


def check_rows(rows: list[InputRow], path: Path, text_field: str, on_empty: str) -> None:
    """The errors classify() would raise, but naming the input file and line."""
    from .preprocessing import has_visible_text

    for r in rows:
        problem = text_problem(r.text)
        if problem:
            raise DataError(path, r.line, text_field, problem.replace("must be str", "must be a string"))
        if on_empty == "raise" and not has_visible_text(r.text):
            raise DataError(path, r.line, text_field, "is empty: no visible characters "
                                                      "(pass --on-empty none to write a no-content row)")


def _shards(rows: Iterator[InputRow], size: int) -> Iterator[list[InputRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def _atomic_write(path: Path, content: str | list[dict]) -> None:
    """Write text, or rows as a Parquet table, to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(content, str):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = list(dict.fromkeys(k for row in content for k in row))  # every row's fields, in order
        pq.write_table(pa.table({k: [r.get(k) for r in content] for k in names}), tmp)
    os.replace(tmp, path)


def output_format(out: Path, fmt: str | None) -> tuple[str, bool]:
    """(format, whether ``out`` is a directory of shards)."""
    is_dir = out.suffix == "" or out.is_dir()
    fmt = fmt or (out.suffix.lstrip(".").lower() if not is_dir else "jsonl")
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output format {fmt!r} is not supported; use one of {OUTPUT_FORMATS}")
    return fmt, is_dir


def input_fingerprint(path: Path) -> str:
    """Size and SHA-256 of a file's first and last MiB: cheap, and changes when the input is replaced."""
    size = path.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(2**20))
        if size > 2**21:
            f.seek(-2**20, os.SEEK_END)
            h.update(f.read())
    return h.hexdigest()[:32]


def job_parameters(classifier: Classifier, in_path: Path, fmt: str, shard_size: int, on_empty: str,
                   text_field: str, id_field: str) -> dict:
    """What makes a prediction job the same job: its input, its model and every option that shapes rows."""
    model = hashlib.sha256(classifier.config.to_json_string().encode()).hexdigest()[:16]
    return {"input": str(in_path.resolve()), "input_fingerprint": input_fingerprint(in_path),
            "shard_size": shard_size, "format": fmt, "on_empty": on_empty, "text_field": text_field,
            "id_field": id_field, "model": model, "backend": classifier.backend, "precision": classifier.precision}


def _check_job(shard_dir: Path, job: dict, resume: bool) -> None:
    """Record the job's parameters; on resume, refuse a job whose parameters differ."""
    path = shard_dir / "job.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        changed = {k: (old.get(k), v) for k, v in job.items() if old.get(k) != v and k not in ("backend", "precision")}
        if changed:
            what = "; ".join(f"{k}: was {a!r}, now {b!r}" for k, (a, b) in changed.items())
            raise ValueError(f"--resume: {shard_dir} holds a different job ({what}); rerun with the same options, "
                             "or write to a new output")
    elif resume and any(shard_dir.glob("part-*")):
        raise ValueError(f"--resume: {shard_dir} has shards but no job.json, so they cannot be checked; "
                         "write to a new output")
    _atomic_write(path, json.dumps(job, indent=1))


def _row_count(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1 if fmt == "csv" else sum(1 for line in f if line.strip())


def predict_file(classifier: Classifier, in_path: str | Path, out_path: str | Path, *, fmt: str | None = None,
                 shard_size: int = 10000, batch_size: int = 32, resume: bool = False, on_empty: str = "raise",
                 text_field: str = "text", id_field: str = "id", articles: bool = False, rank: int = 0,
                 world_size: int = 1, progress: bool = True) -> Path:
    """Classify every row of ``in_path`` (every paragraph of every article, with ``articles``) into
    ``out_path``; returns the output path."""
    in_path, out = Path(in_path), Path(out_path)
    fmt, is_dir = output_format(out, fmt)
    check_batch_size(batch_size)
    check_batch_size(shard_size, "shard_size")
    check_on_empty(on_empty)
    if not in_path.is_file():
        raise FileNotFoundError(f"input file not found: {in_path}")
    shard_dir = out if is_dir else out.with_name(out.name + ".shards")
    if not resume and (out.is_file() or any(shard_dir.glob("part-*"))):
        raise FileExistsError(f"{out} already has output: pass resume=True (--resume) to continue, or remove it")
    if resume and out.is_file() and not shard_dir.exists():
        raise FileExistsError(f"{out} is already complete; remove it to predict again")
    shard_dir.mkdir(parents=True, exist_ok=True)
    job = job_parameters(classifier, in_path, fmt, shard_size, on_empty, text_field, id_field) | {"articles": articles}
    _check_job(shard_dir, job, resume)
    columns = csv_columns(next(_expected_rows(iter_texts(in_path, text_field, id_field), articles), None))
    bar = tqdm(desc=f"predict {in_path.name}", unit="article" if articles else "row", disable=not progress)
    total = 0
    for index, rows in enumerate(_shards(iter_texts(in_path, text_field, id_field), shard_size)):
        target = shard_dir / f"part-{index:05d}.{fmt}"
        bar.update(len(rows))
        if index % world_size != rank:
            continue
        if articles:  # an article's text must be a string before it can be cut into paragraphs
            check_rows(rows, in_path, text_field, "none")
            rows = list(_expected_rows(rows, articles))
        check_rows(rows, in_path, text_field, on_empty)
        total += len(rows)
        if target.exists():
            if _row_count(target, fmt) != len(rows):
                raise ValueError(f"{target} has {_row_count(target, fmt)} rows where the input has {len(rows)}: "
                                 "it was not written by this job; write to a new output")
            continue
        if fmt == "csv":
            _check_columns(rows, columns, in_path)
        predictions = classifier([r.text for r in rows], batch_size=batch_size, on_empty=on_empty)
        out_rows = [output_row(r, p) for r, p in zip(rows, predictions)]
        _atomic_write(target, [flat_row(r) for r in out_rows] if fmt == "parquet" else
                      format_rows(out_rows, fmt, columns))
    bar.close()
    if world_size > 1:
        return out
    written = sum(_row_count(p, fmt) for p in shard_dir.glob(f"part-*.{fmt}"))
    if written != total:
        raise ValueError(f"{shard_dir} holds {written} rows for {total} input rows; write to a new output")
    if not is_dir:
        _join_shards(shard_dir, out, fmt)
    return out


def _expected_rows(rows, articles: bool) -> Iterator[InputRow]:
    """The rows that get an output row: the input rows, or every paragraph of each article."""
    for row in rows:
        yield from paragraph_rows(row) if articles and isinstance(row.text, str) else [row]


def _check_columns(rows: list[InputRow], columns: list[str], path: Path) -> None:
    """CSV output has the first row's fields as columns: a later row with another field is an error, not lost."""
    for r in rows:
        extra = [k for k in flat_row(output_row(r, Prediction.empty())) if k not in columns]
        if extra:
            raise DataError(path, r.line, extra[0], "is not a field of the first row, so it has no CSV column: "
                                                    "write JSONL or Parquet output to keep every field")


def _join_shards(shard_dir: Path, out: Path, fmt: str) -> None:
    """Concatenate the shards in order into ``out`` (CSV: one header; Parquet: one table of the shards'
    unified schema), then remove them."""
    parts = sorted(shard_dir.glob(f"part-*.{fmt}"))
    tmp = out.with_name(out.name + ".tmp")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.unify_schemas([pq.read_schema(p) for p in parts])
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                table = pq.read_table(part)
                table = pa.table({f.name: table[f.name] if f.name in table.column_names
                                  else pa.nulls(len(table), f.type) for f in schema}).cast(schema)
                writer.write_table(table)
    else:
        with open(tmp, "w", encoding="utf-8", newline="") as dst:
            for i, part in enumerate(parts):
                with open(part, encoding="utf-8", newline="") as src:
                    if fmt == "csv" and i > 0:
                        src.readline()
                    shutil.copyfileobj(src, dst)
    os.replace(tmp, out)
    shutil.rmtree(shard_dir)
