"""Batch prediction over files of any size: streamed input, sharded output, resumable.

Input rows are read as a stream (JSONL, CSV/TSV, Parquet or plain text) and cut into shards
of ``shard_size`` rows. Each shard is classified and written to ``<shards>/part-NNNNN.<fmt>``
through a temporary file and an atomic rename, so a shard file on disk is always complete.
``resume=True`` skips shards already on disk; re-running an interrupted job therefore gives
exactly one output row per input row. When every shard is done they are joined into the
output file (again through an atomic rename), unless the output is a directory. Under
``accelerate launch`` each process takes every n-th shard.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from .data import DataError, InputRow, iter_texts
from .inference import Classifier, Prediction
from .labels import STANCES, TOPICS

OUTPUT_FORMATS = ("jsonl", "csv")


def output_row(row_id: str, p: Prediction) -> dict:
    return {"id": row_id, **p.to_dict()}


def format_rows(rows: list[dict], fmt: str, header: bool) -> str:
    """Rows as JSONL, or as CSV with one score column per label."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    buf = io.StringIO()
    writer = csv.writer(buf)
    if header:
        writer.writerow(["id", "topics", *(f"topic_{t}" for t in TOPICS), "stance",
                         *(f"stance_{s}" for s in STANCES), "no_content"])
    for r in rows:
        writer.writerow([r["id"], "|".join(r["topics"]), *(f"{r['topic_scores'][t]:.5f}" for t in TOPICS),
                         r["stance"], *(f"{r['stance_scores'][s]:.5f}" for s in STANCES), int(r["no_content"])])
    return buf.getvalue()


def check_rows(rows: list[InputRow], path: Path, text_field: str, on_empty: str) -> None:
    """The errors classify() would raise, but naming the input file and line."""
    for r in rows:
        if not isinstance(r.text, str):
            raise DataError(path, r.line, text_field, f"must be a string, got {type(r.text).__name__}")
        if not r.text.strip() and on_empty == "raise":
            raise DataError(path, r.line, text_field, "is empty (pass --on-empty none to write a no-content row)")


def _shards(rows: Iterator[InputRow], size: int) -> Iterator[list[InputRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def output_format(out: Path, fmt: str | None) -> tuple[str, bool]:
    """(format, whether ``out`` is a directory of shards)."""
    is_dir = out.suffix == "" or out.is_dir()
    fmt = fmt or (out.suffix.lstrip(".").lower() if not is_dir else "jsonl")
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output format {fmt!r} is not supported; use one of {OUTPUT_FORMATS}")
    return fmt, is_dir


def predict_file(classifier: Classifier, in_path: str | Path, out_path: str | Path, *, fmt: str | None = None,
                 shard_size: int = 10000, batch_size: int = 32, resume: bool = False, on_empty: str = "raise",
                 text_field: str = "text", id_field: str = "id", rank: int = 0, world_size: int = 1,
                 progress: bool = True) -> Path:
    """Classify every row of ``in_path`` into ``out_path``; returns the output path."""
    in_path, out = Path(in_path), Path(out_path)
    fmt, is_dir = output_format(out, fmt)
    shard_dir = out if is_dir else out.with_name(out.name + ".shards")
    if not resume and (out.is_file() or any(shard_dir.glob("part-*"))):
        raise FileExistsError(f"{out} already has output: pass resume=True (--resume) to continue, or remove it")
    shard_dir.mkdir(parents=True, exist_ok=True)
    bar = tqdm(desc=f"predict {in_path.name}", unit="row", disable=not progress)
    for index, rows in enumerate(_shards(iter_texts(in_path, text_field, id_field), shard_size)):
        target = shard_dir / f"part-{index:05d}.{fmt}"
        if index % world_size != rank or target.exists():
            bar.update(len(rows))
            continue
        check_rows(rows, in_path, text_field, on_empty)
        predictions = classifier([r.text for r in rows], batch_size=batch_size, on_empty=on_empty)
        out_rows = [output_row(r.id, p) for r, p in zip(rows, predictions)]
        _atomic_write(target, format_rows(out_rows, fmt, header=True))
        bar.update(len(rows))
    bar.close()
    if is_dir or world_size > 1:
        return out
    _join_shards(shard_dir, out, fmt)
    return out


def _join_shards(shard_dir: Path, out: Path, fmt: str) -> None:
    """Concatenate the shards in order into ``out`` (CSV: one header), then remove them."""
    parts = sorted(shard_dir.glob(f"part-*.{fmt}"))
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as dst:
        for i, part in enumerate(parts):
            with open(part, encoding="utf-8", newline="") as src:
                if fmt == "csv" and i > 0:
                    src.readline()
                shutil.copyfileobj(src, dst)
    os.replace(tmp, out)
    shutil.rmtree(shard_dir)
