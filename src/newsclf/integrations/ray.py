"""Batch inference on Ray Data, for corpora that outgrow one machine (``pip install "newsclf[ray]"``).

:class:`RayPredictor` is a callable class for :meth:`ray.data.Dataset.map_batches`: Ray starts a
pool of actors, each loads the model once, and each batch of rows comes back with the columns of
``newsclf predict``'s CSV/Parquet output (:func:`newsclf.predict.flat_row`): ``id``, the other
input columns passed through, ``topics``, ``topic_<name>``, ``stance``, ``stance_<name>``,
``no_content``. :func:`predict_dataset` wires it up; :func:`predict_files` is ``newsclf predict
--engine ray``: Parquet or JSONL in, a folder of Parquet files out.

Fault tolerance, as Ray provides it: a task or actor lost to a crash, an out-of-memory kill or a
lost node is retried or restarted by Ray Data and its rows are recomputed; an error raised by the
classifier on a row (bad text) is not retried and stops the job, naming the row's id. Output files
are written by Ray under names unique to each run, so running again into the same folder would add
a second copy of every row: :func:`predict_files` therefore refuses a folder that already holds
files, and checks at the end that it wrote exactly one row per input row. After a failed run,
delete the folder (or write to a new one) and run again.
"""
from __future__ import annotations

from pathlib import Path

from ..data import InputRow
from ..inference import Classifier
from ..predict import flat_row, output_row
from ..preprocessing import has_visible_text
from ..validation import check_batch_size, check_on_empty, text_problem


class RayPredictor:
    """Loads a :class:`Classifier` once per actor and labels batches (pandas DataFrames) of rows."""

    def __init__(self, model: str | None = None, *, backend: str = "auto", precision: str = "auto",
                 device: str | None = None, batch_size: int = 32, on_empty: str = "raise",
                 text_field: str = "text", id_field: str = "id"):
        self.batch_size, self.on_empty = check_batch_size(batch_size), check_on_empty(on_empty)
        self.text_field, self.id_field = text_field, id_field
        self.classifier = Classifier.from_pretrained(model, device=device, backend=backend, precision=precision)

    def __call__(self, batch):
        """A DataFrame of rows with an id and a text column -> a DataFrame of labelled rows, in the same order."""
        import pandas as pd

        for name in (self.id_field, self.text_field):
            if name not in batch.columns:
                raise ValueError(f"the dataset has no {name!r} column (columns: {list(batch.columns)})")
        rows = [self._row(record) for record in batch.to_dict("records")]
        predictions = self.classifier([r.text for r in rows], batch_size=self.batch_size, on_empty=self.on_empty)
        return pd.DataFrame([flat_row(output_row(r, p)) for r, p in zip(rows, predictions)])

    def _row(self, record: dict) -> InputRow:
        """One record as an input row; a text that cannot be classified is a ValueError naming the row's id."""
        rid, text = str(record.pop(self.id_field)), record.pop(self.text_field)
        problem = text_problem(text)
        if problem is None and self.on_empty == "raise" and not has_visible_text(text):
            problem = "has no visible characters (pass on_empty='none' for a no-content row)"
        if problem:
            raise ValueError(f"row id {rid!r}: field {self.text_field!r} {problem}")
        return InputRow(rid, text, 0, record)


def predict_dataset(dataset, model: str | None = None, *, concurrency: int = 1, num_gpus_per_worker: float = 0,
                    num_cpus_per_worker: float = 1, rows_per_batch: int = 1024, **predictor_options):
    """``dataset`` with the labels added, computed by ``concurrency`` actors of ``num_gpus_per_worker``
    GPUs (1 on a GPU cluster) and ``num_cpus_per_worker`` CPUs each; leave CPUs free for Ray's read
    tasks, or the job waits for them forever. ``predictor_options`` go to :class:`RayPredictor`."""
    check_batch_size(concurrency, "concurrency")
    check_batch_size(rows_per_batch, "rows_per_batch")
    for name, value in (("num_gpus_per_worker", num_gpus_per_worker), ("num_cpus_per_worker", num_cpus_per_worker)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    return dataset.map_batches(RayPredictor, fn_constructor_kwargs={"model": model, **predictor_options},
                               batch_size=rows_per_batch, batch_format="pandas", concurrency=concurrency,
                               num_gpus=num_gpus_per_worker or None, num_cpus=num_cpus_per_worker)


def read_input(path: str | Path):
    """A Ray Dataset of a Parquet file or folder, or of a JSONL file."""
    import ray.data

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir() or path.suffix.lower() == ".parquet":
        return ray.data.read_parquet(str(path))
    if path.suffix.lower() in (".jsonl", ".json"):
        return ray.data.read_json(str(path))
    raise ValueError(f"the ray engine reads Parquet (a file or a folder) or JSONL, not {path.suffix!r}")


def predict_files(in_path: str | Path, out_dir: str | Path, model: str | None = None, *, address: str | None = None,
                  concurrency: int = 1, num_gpus_per_worker: float = 0, num_cpus_per_worker: float = 1,
                  **predictor_options) -> int:
    """``newsclf predict --engine ray``: label ``in_path`` into a folder of Parquet files, in input order;
    returns the number of rows written (always the number of input rows, or an error)."""
    import pyarrow.parquet as pq
    import ray

    out_dir = Path(out_dir)
    if out_dir.is_file() or (out_dir.is_dir() and any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} already holds output: the ray engine writes a new folder each time "
                              "(remove it, or choose another)")
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    dataset = read_input(in_path)
    expected = dataset.count()
    predict_dataset(dataset, model, concurrency=concurrency, num_gpus_per_worker=num_gpus_per_worker,
                    num_cpus_per_worker=num_cpus_per_worker, **predictor_options).write_parquet(str(out_dir))
    written = sum(pq.ParquetFile(p).metadata.num_rows for p in out_dir.glob("*.parquet"))
    if written != expected:
        raise ValueError(f"{out_dir} holds {written} rows for {expected} input rows; delete it and run again")
    return written
