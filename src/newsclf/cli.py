"""The ``newsclf`` command: train, evaluate, predict, export."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from .runtime import PRECISIONS


def _classifier(model: str | None, device: str | None, precision: str = "auto"):
    from .inference import Classifier

    return Classifier.from_pretrained(model, device=device, precision=precision)


def cmd_train(args) -> int:
    from .trainer import train
    from .training_args import load_config

    path = train(load_config(args.config), resume=args.resume)
    print(f"model saved to {path}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate_file

    out = args.out or os.path.join(args.model or "default-model", "eval")
    report = evaluate_file(_classifier(args.model, args.device), args.data, out, batch_size=args.batch_size)
    print(open(os.path.join(out, "report.md"), encoding="utf-8").read())
    print(f"report, plots and predictions written to {out}")
    print(json.dumps({"topic_micro_f1": report["topics"]["micro_f1"], "topic_macro_f1": report["topics"]["macro_f1"],
                      "stance_macro_f1": report["stance"]["macro_f1"]}))
    return 0


def cmd_predict(args) -> int:
    from .predict import predict_file

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    device = args.device or (f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if world > 1 else None)
    out = predict_file(_classifier(args.model, device, args.precision), args.input, args.output, fmt=args.format,
                       shard_size=args.shard_size, batch_size=args.batch_size, resume=args.resume,
                       on_empty="none" if args.on_empty == "none" else "raise", text_field=args.text_field,
                       id_field=args.id_field, rank=rank, world_size=world)
    print(f"predictions written to {out}")
    return 0


def cmd_export(args) -> int:
    from .exporters.onnx import export_onnx
    from .modeling import NewsClfModel

    for path in export_onnx(NewsClfModel.from_pretrained(args.model), args.model, int8=args.int8):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsclf", description="Topic and stance labels for Arabic news paragraphs.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="fine-tune from a YAML config")
    t.add_argument("config")
    t.add_argument("--resume", action="store_true", help="continue from the last checkpoint in output.dir")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="score a model on a labelled JSONL/CSV file")
    e.add_argument("model", help="saved model folder or hub id ('default' for the bundled model)")
    e.add_argument("data")
    e.add_argument("--out", help="report folder (default MODEL/eval)")
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--device")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="label every paragraph of a JSONL/CSV/Parquet/TXT file")
    r.add_argument("input")
    r.add_argument("output", help="a .jsonl or .csv file, or a folder to keep the numbered shards")
    r.add_argument("--model", help="saved model folder or hub id (default: the bundled model)")
    r.add_argument("--format", choices=["jsonl", "csv"])
    r.add_argument("--batch-size", type=int, default=32)
    r.add_argument("--shard-size", type=int, default=10000)
    r.add_argument("--resume", action="store_true", help="keep finished shards and do the rest")
    r.add_argument("--on-empty", choices=["error", "none"], default="error",
                   help="empty text: stop with an error naming the line, or write a no-content row")
    r.add_argument("--text-field", default="text")
    r.add_argument("--id-field", default="id")
    r.add_argument("--device")
    r.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="runtime path; auto picks the fastest that keeps accuracy on this hardware")
    r.set_defaults(func=cmd_predict)

    x = sub.add_parser("export", help="export a saved model for another runtime")
    x.add_argument("model", help="saved model folder; the export is written into MODEL/onnx/")
    x.add_argument("--onnx", action="store_true", required=True, help="ONNX graph for ONNX Runtime")
    x.add_argument("--int8", action="store_true", help="also an int8 dynamically quantised copy")
    x.set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "model", None) == "default":
        args.model = None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    from .data import DataError
    from .training_args import ConfigError

    try:
        return args.func(args)
    except (ConfigError, DataError, FileNotFoundError, FileExistsError) as e:
        print(f"newsclf {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
