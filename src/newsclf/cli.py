"""The ``newsclf`` command: train, evaluate, predict, suggest, pseudolabel, export, explain, report, labels.

Every verb turns a bad argument, a data or config error, or an OS error (missing file,
read-only folder, full disk) into one line on stderr and exit status 2; ``--debug`` shows the
traceback instead.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .explain import TARGETS
from .runtime import BACKENDS, DEPRECATED_PRECISIONS, PRECISIONS
from .validation import ON_EMPTY


def _classifier(args, device: str | None = None, model: str | None = None):
    """The model named by ``model`` (default: ``--model``; 'default' or none is the bundled one)."""
    from .inference import Classifier

    name = args.model if model is None else model
    return Classifier.from_pretrained(None if name == "default" else name, device=device or args.device,
                                      backend=args.backend, precision=args.precision)


def _on_empty(value: str) -> str:
    if value == "error":  # the old spelling
        print("newsclf: warning: --on-empty error is deprecated: use --on-empty raise", file=sys.stderr)
        return "raise"
    return value


def cmd_train(args) -> int:
    from .config import load_config
    from .trainer import train

    path = train(load_config(args.config, overrides=args.set), resume=args.resume)
    print(f"model saved to {path}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate_file
    from .metrics import headline_scores

    out = args.out or os.path.join(args.model or "default-model", "eval")
    report = evaluate_file(_classifier(args), args.data, out, batch_size=args.batch_size, resamples=args.resamples)
    print(open(os.path.join(out, "report.md"), encoding="utf-8").read())
    print(f"report, plots and predictions written to {out}")
    print(json.dumps(headline_scores(report)))
    return 0


def cmd_predict(args) -> int:
    if args.engine == "ray":
        return _predict_on_ray(args)
    from .predict import predict_file

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = args.device or (f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if world > 1 else None)
    out = predict_file(_classifier(args, device), args.input, args.output, fmt=args.format,
                       shard_size=args.shard_size, batch_size=args.batch_size, resume=args.resume,
                       on_empty=_on_empty(args.on_empty), text_field=args.text_field, id_field=args.id_field,
                       articles=args.articles, rank=rank, world_size=world)
    print(f"predictions written to {out}")
    return 0


def _predict_on_ray(args) -> int:
    unsupported = [flag for flag, used in (("--articles", args.articles), ("--resume", args.resume),
                                           ("--format", args.format not in (None, "parquet"))) if used]
    if unsupported:
        raise ValueError(f"{', '.join(unsupported)} cannot be used with --engine ray (it writes a new folder of "
                         "Parquet files)")
    try:
        from .integrations.ray import predict_files
    except ImportError as e:
        raise ValueError(f"--engine ray needs Ray Data: pip install 'newsclf[ray]' ({e})") from None
    n = predict_files(args.input, args.output, args.model, address=args.ray_address, concurrency=args.concurrency,
                      num_gpus_per_worker=args.num_gpus_per_worker,
                      num_cpus_per_worker=args.num_cpus_per_worker, backend=args.backend, precision=args.precision,
                      device=args.device, batch_size=args.batch_size, on_empty=_on_empty(args.on_empty),
                      text_field=args.text_field, id_field=args.id_field)
    print(f"{n} predictions written to {args.output}")
    return 0


def cmd_suggest(args) -> int:
    from .suggest import DEFAULT_MIX, suggest_file

    mix = dict(DEFAULT_MIX)
    for item in args.mix or []:
        name, _, value = item.partition("=")
        try:
            mix[name] = float(value)
        except ValueError:
            raise ValueError(f"--mix takes SHARE=FRACTION, got {item!r}") from None
    summary = suggest_file(_classifier(args), args.pool, args.output, args.n, exclude=args.exclude or [], mix=mix,
                           seed=args.seed, group_field=args.group_field, text_field=args.text_field,
                           id_field=args.id_field, batch_size=args.batch_size, max_per_doc=args.max_per_doc or None)
    print(json.dumps(summary))
    print(f"suggestions written to {args.output}")
    return 0


def cmd_pseudolabel(args) -> int:
    from .self_training import pseudo_label_file

    classifiers = {m: _classifier(args, model=m) for m in args.model or ["default"]}
    summary = pseudo_label_file(classifiers, args.pool, args.output, args.dev, exclude=args.exclude or [],
                                held_out=args.held_out or [],
                                topic_margin=args.topic_margin, stance_confidence=args.stance_confidence,
                                soft=args.soft, batch_size=args.batch_size)
    print(json.dumps(summary, ensure_ascii=False))
    print(f"{summary['kept']} pseudo-labelled records written to {args.output}; name the file in a config's "
          "data.pseudo_labels to train on it")
    return 0


def cmd_export(args) -> int:
    from transformers import AutoTokenizer

    from .exporters.onnx import CALIBRATION_TEXTS, OUTLIER_RATIO, export_onnx, outlier_layers
    from .modeling import NewsClfModel

    model, keep = NewsClfModel.from_pretrained(args.model), []
    if args.int8:
        texts = CALIBRATION_TEXTS
        if args.calibration:
            from .data import iter_texts
            from .predict import check_rows

            rows = list(iter_texts(args.calibration, text_field=args.text_field))
            check_rows(rows, args.calibration, args.text_field, "raise")
            texts = [r.text for r in rows]
        ratio = OUTLIER_RATIO if args.outlier_ratio is None else args.outlier_ratio
        keep = outlier_layers(model, AutoTokenizer.from_pretrained(args.model), texts, ratio)
        print(f"left in fp32 in the int8 graph (input max/RMS > {ratio:g}): {', '.join(keep) or 'none'}")
    for path in export_onnx(model, args.model, int8=args.int8, fp32_layers=keep):
        print(f"wrote {path}")
    return 0


def cmd_explain(args) -> int:
    from .data import iter_texts
    from .explain import explain, explanation_html

    from .predict import check_rows

    rows = list(iter_texts(args.input, text_field=args.text_field, id_field=args.id_field))
    check_rows(rows, args.input, args.text_field, "raise")  # a bad row is named by file and line
    explanations = explain(_classifier(args), [r.text for r in rows], args.target, n_steps=args.steps,
                           progress=True)
    with open(args.output, "w", encoding="utf-8") as f:
        for row, e in zip(rows, explanations):
            f.write(json.dumps({"id": row.id, **e.to_dict()}, ensure_ascii=False) + "\n")
    print(f"explanations written to {args.output}")
    if args.html:
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(explanation_html(explanations))
        print(f"page written to {args.html}")
    return 0


def cmd_report(args) -> int:
    from .report import build_report

    summary = build_report(args.predictions, args.out_dir, by=None if args.by == "none" else args.by,
                           time=None if args.time == "none" else args.time, min_count=args.min_count,
                           date_field=args.date_field, article_field=args.article_field)
    print(json.dumps({k: v for k, v in summary.items() if k != "files"}, ensure_ascii=False))
    print(f"report written to {os.path.join(args.out_dir, 'report.html')}")
    return 0


def cmd_labels(args) -> int:
    from .labels import label_guide

    print(label_guide())
    return 0


def _model_options(p: argparse.ArgumentParser, batch: bool = True) -> None:
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when present)")
    p.add_argument("--backend", choices=BACKENDS, default="auto", help="torch or onnx; auto picks for this hardware")
    p.add_argument("--precision", choices=PRECISIONS + tuple(DEPRECATED_PRECISIONS), default="auto",
                   help="fp32, bf16, fp16 (torch), int8 (onnx); auto picks the fastest that keeps accuracy here")
    if batch:
        p.add_argument("--batch-size", type=_positive_int, default=32)


def _whole_number(value: str, least: int, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a {what} whole number, got {value!r}") from None
    if n < least:
        raise argparse.ArgumentTypeError(f"expected a {what} whole number, got {n}")
    return n


def _positive_int(value: str) -> int:
    return _whole_number(value, 1, "positive")


def _count(value: str) -> int:
    return _whole_number(value, 0, "non-negative")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsclf", description="Topic and stance labels for Arabic news paragraphs.")
    p.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fine-tune from a YAML config")
    t.add_argument("config")
    t.add_argument("--resume", action="store_true", help="continue from the last checkpoint in output.dir")
    t.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config key, e.g. --set training.learning_rate=1e-4 (repeatable); "
                        "also written --training.learning_rate 1e-4")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="score a model on a labelled JSONL/CSV file")
    e.add_argument("model", help="saved model folder or hub id ('default' for the bundled model)")
    e.add_argument("data")
    e.add_argument("--out", help="report folder (default MODEL/eval)")
    e.add_argument("--resamples", type=_count, default=1000,
                   help="bootstrap draws of whole documents for the scores' 95 %% intervals (0: none)")
    _model_options(e)
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="label every paragraph of a JSONL/CSV/Parquet/TXT file")
    r.add_argument("input")
    r.add_argument("output", help="a .jsonl, .csv or .parquet file, or a folder to keep the numbered shards")
    r.add_argument("--model", help="saved model folder or hub id (default: the bundled model)")
    r.add_argument("--format", choices=["jsonl", "csv", "parquet"])
    r.add_argument("--articles", action="store_true",
                   help="each input row is a whole article: label each of its paragraphs (output rows carry "
                        "article_id, paragraph_index and the article's other fields)")
    r.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process (or each process of accelerate launch); ray: a Ray cluster, "
                        "Parquet/JSONL in, a folder of Parquet files out (pip install 'newsclf[ray]')")
    r.add_argument("--ray-address", help="Ray cluster to join (default: a local Ray, or RAY_ADDRESS)")
    r.add_argument("--concurrency", type=_positive_int, default=1, help="ray: number of model actors")
    r.add_argument("--num-gpus-per-worker", type=float, default=0, help="ray: GPUs per actor (1 on GPU nodes)")
    r.add_argument("--num-cpus-per-worker", type=float, default=1,
                   help="ray: CPUs reserved per actor (leave some free for reading the input)")
    r.add_argument("--shard-size", type=_positive_int, default=10000)
    r.add_argument("--resume", action="store_true", help="continue the same job (same input and options)")
    r.add_argument("--on-empty", choices=ON_EMPTY + ("error",), default="raise",
                   help="text with no visible characters: stop with an error naming the line (raise), or write "
                        "a no-content row (none)")
    r.add_argument("--text-field", default="text")
    r.add_argument("--id-field", default="id")
    _model_options(r)
    r.set_defaults(func=cmd_predict)

    s = sub.add_parser("suggest", help="choose the unlabelled paragraphs most worth annotating next")
    s.add_argument("pool", help="unlabelled JSONL/CSV/TSV/Parquet with id and text")
    s.add_argument("output", help="JSONL of the chosen rows, with suggest_share and suggest_score")
    s.add_argument("-n", type=_positive_int, required=True, help="how many paragraphs to choose")
    s.add_argument("--model", help="saved model folder or hub id (default: the bundled model)")
    s.add_argument("--exclude", action="append", metavar="FILE",
                   help="a file whose ids are already labelled (repeat for several)")
    s.add_argument("--mix", action="append", metavar="SHARE=FRACTION",
                   help="override a share of random/rare/uncertain/diverse (default 0.25/0.25/0.3/0.2)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--group-field", default="doc_id", help="field naming a paragraph's document")
    s.add_argument("--max-per-doc", type=int, default=3, help="at most this many per document (0: no limit)")
    s.add_argument("--text-field", default="text")
    s.add_argument("--id-field", default="id")
    _model_options(s)
    s.set_defaults(func=cmd_suggest)

    q = sub.add_parser("pseudolabel", help="self-training: label unlabelled paragraphs with a teacher (one model or "
                                           "the average of several) and keep the confident ones")
    q.add_argument("pool", help="unlabelled JSONL/CSV/TSV/Parquet with id and text")
    q.add_argument("output", help="JSONL of labelled records for a config's data.pseudo_labels")
    q.add_argument("--model", action="append", metavar="MODEL",
                   help="a teacher model folder or hub id; repeat to average several (default: the bundled model)")
    q.add_argument("--dev", required=True, help="gold records on which the teacher's decision rules are tuned")
    q.add_argument("--exclude", action="append", metavar="FILE",
                   help="a file whose ids are already labelled (repeat for several; --dev is always excluded)")
    q.add_argument("--held-out", action="append", metavar="FILE",
                   help="a held-out split (the test file): no paragraph of its documents is labelled (--dev's "
                        "documents never are)")
    q.add_argument("--topic-margin", type=float, default=2.0,
                   help="keep a paragraph only if every topic score is this many log-odds from its threshold")
    q.add_argument("--stance-confidence", type=float, default=0.9,
                   help="... and its stance probability (after the prior weights) is at least this")
    q.add_argument("--soft", action="store_true",
                   help="also write the teacher's probabilities, which training learns instead of the labels "
                        "(distillation; with --topic-margin 0 --stance-confidence 0 every paragraph is kept)")
    _model_options(q)
    q.set_defaults(func=cmd_pseudolabel)

    x = sub.add_parser("export", help="export a saved model for another runtime")
    x.add_argument("model", help="saved model folder; the export is written into MODEL/onnx/")
    x.add_argument("--onnx", action="store_true", required=True, help="ONNX graph for ONNX Runtime")
    x.add_argument("--int8", action="store_true", help="also an int8 copy")
    x.add_argument("--calibration", help="JSONL/CSV/TSV/Parquet/TXT of paragraphs on which the layers with "
                                         "outlier inputs, left in fp32 by --int8, are found (default: 8 built-in "
                                         "paragraphs)")
    x.add_argument("--text-field", default="text", help="text column of --calibration")
    x.add_argument("--outlier-ratio", type=float,
                   help="a layer whose input's max |value| exceeds this many times its RMS stays fp32 (default: "
                        "newsclf.exporters.onnx.OUTLIER_RATIO)")
    x.set_defaults(func=cmd_export)

    w = sub.add_parser("explain", help="per-word attributions (integrated gradients) of a label, as JSONL/HTML")
    w.add_argument("input", help="JSONL/CSV/TSV/Parquet/TXT of paragraphs")
    w.add_argument("output", help="JSONL: id, text, target, probability, words, scores per paragraph")
    w.add_argument("--model", help="saved model folder or hub id (default: the bundled model)")
    w.add_argument("--target", choices=TARGETS, default="stance",
                   help="stance: the predicted stance; topic: the top-scoring topic; or a label name")
    w.add_argument("--html", help="also write a page highlighting the words")
    w.add_argument("--steps", type=_positive_int, default=32, help="integrated-gradients steps")
    w.add_argument("--text-field", default="text")
    w.add_argument("--id-field", default="id")
    w.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when present)")
    w.set_defaults(func=cmd_explain, backend="torch", precision="fp32")

    c = sub.add_parser("report", help="topic shares and stance mix per outlet and period of a predictions file")
    c.add_argument("predictions", help="JSONL, CSV or Parquet written by newsclf predict")
    c.add_argument("out_dir", help="folder for the tables (CSV), figures (PNG, SVG) and report.html")
    c.add_argument("--by", default="outlet", help="field to group by ('none': one group)")
    c.add_argument("--time", choices=["month", "week", "year", "none"], default="month")
    c.add_argument("--min-count", type=int, default=30, help="flag groups with fewer paragraphs")
    c.add_argument("--date-field", default="date")
    c.add_argument("--article-field", default="article_id", help="field naming a paragraph's article")
    c.set_defaults(func=cmd_report)

    g = sub.add_parser("labels", help="print the label guide (LABELS.md), the one definition of the labels")
    g.set_defaults(func=cmd_labels)
    return p


def _dotted_overrides(argv: list[str]) -> list[str]:
    """``train CFG --training.learning_rate 1e-4`` -> ``--set training.learning_rate=1e-4``."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and "." in arg.split("=")[0]:
            key, sep, value = arg[2:].partition("=")
            if not sep:
                if i + 1 >= len(argv):
                    raise SystemExit(f"newsclf: error: {arg} needs a value")
                value, i = argv[i + 1], i + 1
            out += ["--set", f"{key}={value}"]
        else:
            out.append(arg)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verb = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser().parse_args(_dotted_overrides(argv) if verb == "train" else argv)
    if getattr(args, "model", None) == "default":
        args.model = None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # weight-loading bars; newsclf's own progress bars stay
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as e:  # ConfigError and DataError are ValueErrors
        if args.debug:
            raise
        where = f" {e.filename}" if isinstance(e, OSError) and e.filename and str(e.filename) not in str(e) else ""
        print(f"newsclf {args.command}: error:{where} {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
