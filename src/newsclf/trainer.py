"""Fine-tuning from a validated config, on Hugging Face's Trainer (so CPU, one GPU, or several
GPUs under ``accelerate launch`` run the same config).

Each epoch (or every ``save_steps``) is evaluated on dev and checkpointed; the best checkpoint by
the config's ``select_metric`` is kept and restored at the end; ``resume=True`` continues an
interrupted run from its last checkpoint (optimizer, scheduler and RNG states included). After
training, the decision rules (topic thresholds, stance prior weights) are tuned on dev, and the
model, its resolved config and its card are saved to ``<output.dir>/model``. Training windows
are truncated to ``max_seq_length`` tokens; inference covers longer paragraphs whole with
overlapping windows.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import torch
import yaml
from datasets import Dataset
from transformers import (AutoTokenizer, DataCollatorWithPadding, EarlyStoppingCallback, Trainer,
                          TrainerCallback, TrainingArguments, set_seed)
from transformers.trainer_utils import get_last_checkpoint

from .backbones import resolve_checkpoint
from .data import DataError, Record, cue_spans, has_cues, is_soft, label_arrays, read_records, target_arrays
from .labels import CUE_TAGS, STANCES, TOPICS
from .metrics import tuned_report
from .model_card import read_epochs
from .modeling import NewsClfConfig, NewsClfModel
from .preprocessing import PreprocessingSpec, preprocessor
from .runtime import probabilities
from .config import ConfigError, TrainConfig

logger = logging.getLogger(__name__)
HEADS = ("topic_head", "stance_head", "cue_head")  # new layers, at ``head_learning_rate``


def class_weights(records: list[Record], untaught_stance: frozenset = frozenset()) -> tuple[list[float], list[float]]:
    """Topic ``pos_weight`` (negatives / positives, capped at 10) and inverse-frequency stance weights (soft
    records count by their hard labels) over the records whose stance is taught (ids not in ``untaught_stance``)."""
    n = len(records)
    pos = np.array([sum(t in r.topics for r in records) for t in TOPICS], dtype=float)
    pos_weight = np.clip((n - pos) / np.maximum(pos, 1), 1.0, 10.0)
    taught = [r for r in records if r.id not in untaught_stance]
    counts = np.array([sum(r.stance == s for r in taught) for s in STANCES], dtype=float)
    stance_weight = len(taught) / (len(STANCES) * np.maximum(counts, 1))
    return pos_weight.round(4).tolist(), stance_weight.round(4).tolist()


def encode(records: list[Record], tokenizer, preprocess, max_length: int, cues: bool = False,
           untaught_stance: frozenset = frozenset()) -> Dataset:
    """A datasets.Dataset of token ids and both heads' targets: gold labels, or, where any record carries a
    teacher's soft probabilities or its stance is not taught, probabilities for every row (gold ones one-hot;
    an all-zero stance row for ids in ``untaught_stance``, which the stance loss gives no weight). With
    ``cues``, also each token's cue tag (:func:`cue_labels`)."""
    texts = [preprocess(r.text) for r in records]
    enc = tokenizer(texts, truncation=True, max_length=max_length, return_offsets_mapping=cues)
    if untaught_stance or any(map(is_soft, records)):
        topic, stance = target_arrays(records)
        stance[[r.id in untaught_stance for r in records]] = 0.0
    else:
        topic, stance = label_arrays(records)
    columns = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
               "topic_labels": topic.tolist(), "stance_labels": stance.tolist()}
    if cues:
        columns["cue_labels"] = [cue_labels(r, text, offsets, preprocess)
                                 for r, text, offsets in zip(records, texts, enc["offset_mapping"])]
    return Dataset.from_dict(columns)


def cue_labels(record: Record, text: str, offsets: list, preprocess) -> list[int]:
    """Each token's index in ``CUE_TAGS`` (``text`` is the record's preprocessed text, ``offsets`` its tokens'
    character spans): the tag of the cue a token overlaps, else "none"; all -100 (unknown) for a record
    without cues, and -100 for special tokens. The k-th occurrence of a cue's words in the record's text is
    the k-th occurrence of its preprocessed words in ``text``, so normalisation does not move a cue."""
    if not has_cues(record):
        return [-100] * len(offsets)
    spans = []
    for start, end, tag in cue_spans(record):
        words = record.text[start:end]
        at = _nth(text, preprocess(words), record.text.count(words, 0, start))
        if at >= 0:
            spans.append((at, at + len(preprocess(words)), CUE_TAGS.index(tag)))
    labels = []
    for a, b in offsets:
        tags = [t for s, e, t in spans if a < e and s < b]
        labels.append(-100 if a == b else (tags[-1] if tags else 0))
    return labels


def _nth(text: str, words: str, n: int) -> int:
    """Start of the ``n``-th (from 0) non-overlapping occurrence of ``words`` in ``text``, or -1."""
    at = text.find(words) if words else -1
    for _ in range(n):
        at = text.find(words, at + len(words)) if at >= 0 else -1
    return at


def cue_class_weights(dataset: Dataset) -> list[float]:
    """Inverse-frequency weights of the cue tags over the known token tags (capped at 10 times "none"'s),
    so the few cue tokens are not drowned by the rest."""
    counts = np.bincount([t for row in dataset["cue_labels"] for t in row if t >= 0], minlength=len(CUE_TAGS))
    weights = counts.sum() / (len(CUE_TAGS) * np.maximum(counts, 1))
    return np.minimum(weights / weights[0], 10.0).round(4).tolist()


class CueCollator(DataCollatorWithPadding):
    """Pads ids and mask as usual, and ``cue_labels`` (when present) with -100 to the same width."""

    def __call__(self, features: list[dict]) -> dict:
        cues = [f.pop("cue_labels") for f in features] if "cue_labels" in features[0] else None
        batch = super().__call__(features)
        if cues is not None:
            width = batch["input_ids"].shape[1]
            batch["cue_labels"] = torch.tensor([c + [-100] * (width - len(c)) for c in cues], dtype=torch.long)
        return batch


def compute_metrics(eval_pred) -> dict:
    """Flat dev metrics for the Trainer's log and checkpoint selection, with topic thresholds and stance
    prior weights tuned on these predictions (as the saved model's will be): at a fixed 0.5 and the
    training priors, class-weighted heads look worse than they are, and selection would favour the
    wrong epoch."""
    topic_logits, stance_logits = eval_pred.predictions[:2]  # the third output is the pooled vector
    topic_true, stance_true = eval_pred.label_ids
    topic, stance = (p.numpy() for p in probabilities(torch.as_tensor(topic_logits), torch.as_tensor(stance_logits)))
    report = tuned_report(topic_true, topic, stance_true, stance)
    return {"score": report["score"], "topic_micro_f1": report["topics"]["micro_f1"],
            "topic_macro_f1": report["topics"]["macro_f1"], "stance_macro_f1": report["stance"]["macro_f1"],
            "stance_accuracy": report["stance"]["accuracy"]}


class MetricLog(TrainerCallback):
    """Appends each epoch's dev metrics and training loss to ``metrics.jsonl``."""

    def __init__(self, path: Path):
        self.path = path

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if state.is_world_process_zero and metrics:
            train_loss = next((h["loss"] for h in reversed(state.log_history) if "loss" in h), None)
            row = {"epoch": round(state.epoch or 0, 3), "step": state.global_step, "train_loss": train_loss,
                   **{k: v for k, v in metrics.items() if isinstance(v, (int, float))}}
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")


def train_subset(records: list[Record], fraction: float, seed: int) -> list[Record]:
    """The records of a random ``fraction`` of the documents (``doc_id``; each record its own document
    where there is none), for learning curves."""
    if fraction >= 1.0:
        return records
    docs = sorted({r.document for r in records})
    keep = set(np.random.default_rng(seed).permutation(docs)[:max(1, round(fraction * len(docs)))])
    return [r for r in records if r.document in keep]


def pseudo_records(path: Path, gold: list[Record], held_out: list[Record]) -> list[Record]:
    """The machine-labelled records of ``path``. A record whose id is a gold id (taught twice, or dev or test
    leaking into training) or whose document is in a held-out split (``held_out``: dev and test, which are
    split by document) is an error naming its line."""
    records = read_records(path)
    gold_ids = {r.id for r in [*gold, *held_out]}
    held_docs = {r.document for r in held_out}
    for line, record in enumerate(records, 1):
        if record.id in gold_ids:
            raise DataError(path, line, "id", f"{record.id!r} is also a gold record")
        if record.document in held_docs:
            raise DataError(path, line, "doc_id", f"{record.meta.get('doc_id')!r} is a dev or test document: "
                                                  "its paragraphs must not be trained on")
    return records


@torch.no_grad()
def pooled_features(model: NewsClfModel, tokenizer, texts: list[str], max_length: int,
                    batch_size: int = 32) -> torch.Tensor:
    """The encoder's mean-pooled vectors of ``texts`` (eval mode), for feature statistics."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(texts), batch_size):
        enc = tokenizer(texts[start:start + batch_size], truncation=True, max_length=max_length, padding=True,
                        return_tensors="pt", return_token_type_ids=False).to(model.device)
        out.append(model(**enc).pooled.float().cpu())
    model.train(was_training)
    return torch.cat(out)


def build_model(cfg: TrainConfig, train_records: list[Record], untaught_stance: frozenset = frozenset()):
    """The model with fresh heads on the configured encoder (or a trained model to go on from:
    ``model.init_from``), and its tokenizer."""
    pos_weight, stance_weight = (class_weights(train_records, untaught_stance) if cfg.training.class_weights
                                 else (None, None))
    settings = dict(max_seq_length=cfg.model.max_seq_length, window_stride=cfg.model.window_stride,
                    classifier_dropout=cfg.model.classifier_dropout, topic_loss_weight=cfg.training.topic_loss_weight,
                    stance_loss_weight=cfg.training.stance_loss_weight, topic_pos_weight=pos_weight,
                    stance_class_weights=stance_weight, cue_loss_weight=cfg.training.cue_loss_weight)
    if cfg.model.init_from is not None:
        model, tokenizer = trained_model(cfg, settings)
    else:
        checkpoint = resolve_checkpoint(cfg.model.checkpoint)
        spec = PreprocessingSpec.resolve(cfg.model.preprocessing, cfg.model.checkpoint, cfg.model.strip_markup)
        model = NewsClfModel.from_encoder(checkpoint, preprocessing=spec.to_dict(),
                                          standardize_features=cfg.model.standardize_features, **settings)
        model.config.base_model = cfg.model.checkpoint
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    layers = model.encoder.encoder.layer
    for name in ("freeze_layers", "reinit_layers"):
        if getattr(cfg.model, name) > len(layers):
            raise ConfigError(f"model.{name} is {getattr(cfg.model, name)}; the encoder has {len(layers)} layers")
    for layer in layers[len(layers) - cfg.model.reinit_layers:] if cfg.model.reinit_layers else []:
        layer.apply(model.encoder._init_weights)
    if cfg.model.standardize_features and cfg.model.init_from is None:
        preprocess = preprocessor(PreprocessingSpec(**model.config.preprocessing))
        sample = train_records[:: max(1, len(train_records) // 1024)][:1024]  # enough for 2 moments per dim
        model.set_feature_statistics(pooled_features(model, tokenizer, [preprocess(r.text) for r in sample],
                                                     cfg.model.max_seq_length))
    if cfg.model.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if cfg.model.freeze_layers:
        for module in [model.encoder.embeddings, *layers[:cfg.model.freeze_layers]]:
            module.requires_grad_(False)
    if cfg.model.lora is not None:
        from peft import LoraConfig, get_peft_model

        lora = cfg.model.lora
        model = get_peft_model(model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                                 target_modules=lora.target_modules,
                                                 modules_to_save=[name for name in HEADS
                                                                  if getattr(model, name) is not None]))
    return model, tokenizer


def trained_model(cfg: TrainConfig, settings: dict):
    """The ``model.init_from`` model with this config's training settings; its heads, feature statistics,
    preprocessing and tokenizer stay (a cue head is added if this run has a cue loss and it had none)."""
    from . import bundled, loading

    source = bundled.load_bundled() if cfg.model.init_from == "default" else loading.resolve(cfg.model.init_from)
    base = source.config.base_model
    explicit = cfg.model.model_fields_set
    if "checkpoint" in explicit and cfg.model.checkpoint != base:
        raise ConfigError(f"model.checkpoint is {cfg.model.checkpoint!r} but model.init_from "
                          f"{cfg.model.init_from!r} was trained from {base!r}: give one of the two")
    if "preprocessing" in explicit and cfg.model.preprocessing not in ("auto", source.config.preprocessing["kind"]):
        raise ConfigError(f"model.preprocessing is {cfg.model.preprocessing!r} but model.init_from "
                          f"{cfg.model.init_from!r} reads {source.config.preprocessing['kind']!r} text")
    model = source.build_model()
    for key, value in settings.items():
        setattr(model.config, key, value)
    model.dropout.p = cfg.model.classifier_dropout
    if model.cue_head is None and cfg.training.cue_loss_weight > 0:
        model.cue_head = torch.nn.Linear(model.config.hidden_size, len(CUE_TAGS))
        model._init_weights(model.cue_head)
    elif cfg.training.cue_loss_weight == 0:
        model.cue_head = None
    return model, source.tokenizer


def _encoder_depth(name: str, n_layers: int) -> int:
    """How far below the top a parameter sits: 0 for the top layer (and anything above it), n_layers for
    the embeddings."""
    if ".embeddings." in name:
        return n_layers
    match = re.search(r"\.layer\.(\d+)\.", name)
    return n_layers - 1 - int(match.group(1)) if match else 0


def build_optimizer(model, t) -> torch.optim.AdamW:
    """AdamW with the heads at ``head_learning_rate`` and the encoder at ``learning_rate``, each layer
    below the top scaled by ``layer_lr_decay`` (layer-wise lr decay); no weight decay on biases and
    LayerNorms; frozen parameters are left out."""
    n_layers = _base(model).encoder.config.num_hidden_layers
    groups: dict[tuple[float, float], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        head = any(h in name for h in HEADS)
        lr = ((t.head_learning_rate or t.learning_rate) if head
              else t.learning_rate * t.layer_lr_decay ** _encoder_depth(name, n_layers))
        decay = 0.0 if param.ndim < 2 else t.weight_decay
        groups.setdefault((lr, decay), []).append(param)
    return torch.optim.AdamW([{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()])


def train(cfg: TrainConfig, resume: bool = False, callbacks: list | None = None) -> Path:
    """Train, select on dev, tune thresholds, save; returns the saved model's folder."""
    out = Path(cfg.output.dir)
    ckpt_dir = out / "checkpoints"
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    if resume and last is None:
        raise ConfigError(f"--resume: no checkpoint to resume from in {ckpt_dir}")
    if not resume and last is not None:
        raise ConfigError(f"{ckpt_dir} already holds checkpoints: pass --resume to continue that run, "
                          "or set another output.dir")
    set_seed(cfg.training.seed)
    train_records = train_subset(read_records(cfg.data.train), cfg.data.train_fraction, cfg.training.seed)
    dev_records = read_records(cfg.data.dev)
    untaught_stance = frozenset()
    if cfg.data.pseudo_labels is not None:
        held_out = [*dev_records, *(read_records(cfg.data.test) if cfg.data.test else [])]
        pseudo = pseudo_records(cfg.data.pseudo_labels, train_records, held_out)
        if not cfg.data.pseudo_label_stance:
            untaught_stance = frozenset(r.id for r in pseudo)
            logger.info("the %d machine-labelled records teach topics only", len(pseudo))
        train_records += pseudo
    cues = cfg.training.cue_loss_weight > 0
    if cues and not any(map(has_cues, train_records)):
        raise ConfigError(f"training.cue_loss_weight is {cfg.training.cue_loss_weight} but no record of "
                          f"{cfg.data.train} has a `cues` field to learn from")
    model, tokenizer = build_model(cfg, train_records, untaught_stance)
    preprocess = preprocessor(PreprocessingSpec(**_base(model).config.preprocessing))
    train_set = encode(train_records, tokenizer, preprocess, cfg.model.max_seq_length, cues=cues,
                       untaught_stance=untaught_stance)
    if cues:
        known = sum(map(has_cues, train_records))
        logger.info("cue loss on the tokens of %d of %d train records", known, len(train_records))
        if cfg.training.class_weights:
            _base(model).config.cue_class_weights = cue_class_weights(train_set)
    dev_set = encode(dev_records, tokenizer, preprocess, cfg.model.max_seq_length)
    t = cfg.training
    every = "steps" if t.save_steps else "epoch"
    args = TrainingArguments(
        output_dir=str(ckpt_dir), num_train_epochs=t.epochs, learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.eval_batch_size,
        warmup_steps=t.warmup_ratio, weight_decay=t.weight_decay,
        gradient_accumulation_steps=t.gradient_accumulation_steps, max_grad_norm=t.max_grad_norm, seed=t.seed,
        bf16=t.mixed_precision == "bf16", fp16=t.mixed_precision == "fp16",
        eval_strategy=every, save_strategy=every, logging_strategy=every,
        eval_steps=t.save_steps, save_steps=t.save_steps, logging_steps=t.save_steps,
        load_best_model_at_end=True, metric_for_best_model=t.select_metric, greater_is_better=True,
        save_total_limit=cfg.output.save_total_limit, label_names=["topic_labels", "stance_labels"],
        report_to="none", disable_tqdm=False, dataloader_num_workers=t.dataloader_num_workers,
        train_sampling_strategy="group_by_length", ddp_find_unused_parameters=False,
        use_cpu=not torch.cuda.is_available())
    out.mkdir(parents=True, exist_ok=True)
    trainer_callbacks = [MetricLog(out / "metrics.jsonl"), *(callbacks or [])]
    if t.early_stopping_patience:
        trainer_callbacks.append(EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience))
    trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=dev_set,
                      data_collator=CueCollator(tokenizer), compute_metrics=compute_metrics,
                      callbacks=trainer_callbacks, optimizers=(build_optimizer(model, t), None))
    trainer.train(resume_from_checkpoint=last if resume else None)
    if not trainer.is_world_process_zero():
        return out / "model"
    model = trainer.model.merge_and_unload() if cfg.model.lora is not None else trainer.model
    model.config.topic_thresholds, model.config.stance_prior_weights = tune_decision_rules(model, tokenizer,
                                                                                            dev_records)
    final = out / "model"
    if final.exists():
        shutil.rmtree(final)
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    config_yaml = yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False, allow_unicode=True)
    (final / "training_config.yaml").write_text(config_yaml, encoding="utf-8")
    write_model_card(final, cfg, config_yaml, read_epochs(out), tokenizer)
    logger.info("saved model to %s (best checkpoint %s)", final, trainer.state.best_model_checkpoint)
    return final


def write_model_card(final: Path, cfg: TrainConfig, config_yaml: str, epochs: list[dict], tokenizer) -> None:
    """``final/README.md`` from the run; with a test split, its report (and figures) in ``final/eval``."""
    from .evaluation import evaluate_file
    from .inference import Classifier
    from .model_card import render_model_card

    test_report = None
    if cfg.data.test is not None:
        clf = Classifier.from_pretrained(final, device="cpu" if not torch.cuda.is_available() else None)
        test_report = evaluate_file(clf, cfg.data.test, final / "eval", progress=False)
    saved = NewsClfConfig.from_pretrained(final)
    card = render_model_card(name=f"newsclf model ({Path(cfg.output.dir).name})", base_model=saved.base_model,
                             config_yaml=config_yaml, thresholds=saved.topic_thresholds, epochs=epochs,
                             stance_weights=saved.stance_prior_weights, test_report=test_report)
    (final / "README.md").write_text(card, encoding="utf-8")


def tune_decision_rules(model: NewsClfModel, tokenizer, dev_records: list[Record]) -> tuple[list, list]:
    """Per-topic thresholds and stance prior weights that maximise dev F1, on probabilities computed
    the way inference does (preprocessing, windows, aggregation), so that they fit what users get."""
    from .inference import Classifier

    model.config.stance_prior_weights = None
    clf = Classifier.from_model(model, tokenizer, device=model.device, backend="torch", precision="fp32")
    topic_probs, stance_probs = clf.predict_proba([r.text for r in dev_records], batch_size=64)
    topic_true, stance_true = label_arrays(dev_records)
    rules = tuned_report(topic_true, topic_probs, stance_true, stance_probs)["rules"]
    return rules["topic_thresholds"], rules["stance_prior_weights"]


def _base(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model
