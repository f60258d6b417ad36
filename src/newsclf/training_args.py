"""The training config: one YAML file, validated by typed models.

An unknown or misspelt key, a value of the wrong type or a data file that does not exist
is a :class:`ConfigError` naming the file and the key. Relative paths are resolved against
the directory of the YAML file, so a config works from any working directory.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CHECKPOINT = "aubmindlab/bert-base-arabertv02"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class LoraConfig(_Section):
    """LoRA adapters (peft) on the encoder's attention projections, merged into the weights at save."""

    r: int = Field(8, gt=0)
    alpha: int = Field(16, gt=0)
    dropout: float = Field(0.1, ge=0, lt=1)
    target_modules: list[str] = ["query", "key", "value", "dense"]


class ModelSection(_Section):
    checkpoint: str = DEFAULT_CHECKPOINT
    max_length: int = Field(256, ge=16, le=8192)
    window_stride: int = Field(64, ge=0)
    preprocessing: Literal["auto", "arabert", "normalize", "none"] = "auto"
    classifier_dropout: float = Field(0.1, ge=0, lt=1)
    freeze_embeddings: bool = False
    freeze_layers: int = Field(0, ge=0, description="bottom encoder layers kept frozen")
    lora: LoraConfig | None = None


class DataSection(_Section):
    train: Path
    dev: Path
    test: Path | None = None


class TrainingSection(_Section):
    epochs: float = Field(3, gt=0)
    learning_rate: float = Field(3e-5, gt=0)
    head_learning_rate: float | None = Field(None, gt=0, description="for the two new heads; default learning_rate")
    batch_size: int = Field(16, gt=0)
    eval_batch_size: int = Field(64, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    gradient_accumulation_steps: int = Field(1, gt=0)
    max_grad_norm: float = Field(1.0, gt=0)
    seed: int = 42
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    early_stopping_patience: int | None = Field(None, gt=0)
    topic_loss_weight: float = Field(1.0, ge=0)
    stance_loss_weight: float = Field(1.0, ge=0)
    class_weights: bool = True
    select_metric: Literal["score", "topic_micro_f1", "topic_macro_f1", "stance_macro_f1"] = "score"
    dataloader_num_workers: int = Field(0, ge=0)


class OutputSection(_Section):
    dir: Path
    save_total_limit: int | None = Field(2, gt=0)


class TrainConfig(_Section):
    model: ModelSection = ModelSection()
    data: DataSection
    training: TrainingSection = TrainingSection()
    output: OutputSection

    @field_validator("data", "output", mode="before")
    @classmethod
    def _not_none(cls, v):
        if v is None:
            raise ValueError("section is empty")
        return v


def load_config(path: str | Path) -> TrainConfig:
    """Read, validate and resolve a training YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (model, data, training, output)")
    return parse_config(raw, base_dir=path.parent, source=str(path))


def parse_config(raw: dict, base_dir: Path = Path("."), source: str = "<config>") -> TrainConfig:
    """Validate a config mapping; relative paths are taken from ``base_dir``."""
    try:
        cfg = TrainConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{source}: " + "; ".join(_describe(err) for err in e.errors())) from None
    base_dir = Path(base_dir)
    for key in ("train", "dev", "test"):
        p = getattr(cfg.data, key)
        if p is None:
            continue
        p = p if p.is_absolute() else (base_dir / p)
        if not p.is_file():
            raise ConfigError(f"{source}: key 'data.{key}': file not found: {p}")
        setattr(cfg.data, key, p.resolve())
    if not cfg.output.dir.is_absolute():
        cfg.output.dir = (base_dir / cfg.output.dir).resolve()
    local = base_dir / cfg.model.checkpoint
    if cfg.model.checkpoint.startswith((".", "/")) or local.exists():
        if not local.exists() and not Path(cfg.model.checkpoint).exists():
            raise ConfigError(f"{source}: key 'model.checkpoint': no such folder: {local}")
        cfg.model.checkpoint = str((local if local.exists() else Path(cfg.model.checkpoint)).resolve())
    return cfg


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
