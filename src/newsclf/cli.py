"""The ``newsclf`` command: train, evaluate, predict, suggest, export, labels.

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

from .runtime import BACKENDS, DEPRECATED_PRECISIONS, PRECISIONS
from .validation import ON_EMPTY


def _classifier(args, device: str | None = None):
    from .inference import Classifier

    return Classifier.from_pretrained(args.model, device=device or args.device, backend=args.backend,
                                      precision=args.precision)


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

    out = args.out or os.path.join(args.model or "default-model", "eval")
    report = evaluate_file(_classifier(args), args.data, out, batch_size=args.batch_size)
    print(open(os.path.join(out, "report.md"), encoding="utf-8").read())
    print(f"report, plots and predictions written to {out}")
    print(json.dumps({"topic_micro_f1": report["topics"]["micro_f1"], "topic_macro_f1": report["topics"]["macro_f1"],
                      "stance_macro_f1": report["stance"]["macro_f1"]}))
    return 0


def cmd_predict(args) -> int:
    from .predict import predict_file

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = args.device or (f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if world > 1 else None)
    out = predict_file(_classifier(args, device), args.input, args.output, fmt=args.format,
                       shard_size=args.shard_size, batch_size=args.batch_size, resume=args.resume,
                       on_empty=_on_empty(args.on_empty), text_field=args.text_field, id_field=args.id_field,
                       rank=rank, world_size=world)
    print(f"predictions written to {out}")
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


def cmd_export(args) -> int:
    from .exporters.onnx import export_onnx
    from .modeling import NewsClfModel

    for path in export_onnx(NewsClfModel.from_pretrained(args.model), args.model, int8=args.int8):
        print(f"wrote {path}")
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


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {n}")
    return n


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
    _model_options(e)
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="label every paragraph of a JSONL/CSV/Parquet/TXT file")
    r.add_argument("input")
    r.add_argument("output", help="a .jsonl or .csv file, or a folder to keep the numbered shards")
    r.add_argument("--model", help="saved model folder or hub id (default: the bundled model)")
    r.add_argument("--format", choices=["jsonl", "csv"])
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

    x = sub.add_parser("export", help="export a saved model for another runtime")
    x.add_argument("model", help="saved model folder; the export is written into MODEL/onnx/")
    x.add_argument("--onnx", action="store_true", required=True, help="ONNX graph for ONNX Runtime")
    x.add_argument("--int8", action="store_true", help="also an int8 copy")
    x.set_defaults(func=cmd_export)

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
