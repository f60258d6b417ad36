"""The multi-task model: one encoder, a multi-label topic head and a single-label stance head.

Saved and loaded in standard Hugging Face format. The config carries everything needed to
use the model: label names, per-topic decision thresholds (tuned on dev), preprocessing,
the base model id, ``max_seq_length`` and the window stride for long paragraphs.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

from .labels import CUE_TAGS, STANCES, TOPICS


class NewsClfConfig(PretrainedConfig):
    """Config of :class:`NewsClfModel`; ``encoder`` is the backbone's own config as a dict.

    The decision rules tuned on dev travel with it: ``topic_thresholds`` (one per topic) and
    ``stance_prior_weights`` (a prior shift of the stance probabilities; None for none). With
    ``cue_loss_weight`` > 0 the model has a third, token-level head trained on stance cues (``CUE_TAGS``)."""

    model_type = "newsclf"

    def __init__(self, encoder: dict | None = None, topics=TOPICS, stances=STANCES, topic_thresholds=None,
                 preprocessing: dict | None = None, base_model: str | None = None, max_seq_length: int = 256,
                 window_stride: int = 64, classifier_dropout: float = 0.1, topic_loss_weight: float = 1.0,
                 stance_loss_weight: float = 1.0, topic_pos_weight=None, stance_class_weights=None,
                 standardize_features: bool = False, stance_prior_weights=None, cue_loss_weight: float = 0.0,
                 cue_class_weights=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = dict(encoder or {"model_type": "bert"})
        self.topics = list(topics)
        self.stances = list(stances)
        self.topic_thresholds = list(topic_thresholds) if topic_thresholds is not None else [0.5] * len(self.topics)
        self.preprocessing = dict(preprocessing or {"kind": "normalize", "model_name": None})
        self.base_model = base_model
        self.max_seq_length = max_seq_length
        self.window_stride = window_stride
        self.classifier_dropout = classifier_dropout
        self.topic_loss_weight = topic_loss_weight
        self.stance_loss_weight = stance_loss_weight
        self.topic_pos_weight = list(topic_pos_weight) if topic_pos_weight is not None else None
        self.stance_class_weights = list(stance_class_weights) if stance_class_weights is not None else None
        self.standardize_features = standardize_features
        self.stance_prior_weights = list(stance_prior_weights) if stance_prior_weights is not None else None
        self.cue_loss_weight = cue_loss_weight
        self.cue_class_weights = list(cue_class_weights) if cue_class_weights is not None else None
        if len(self.topic_thresholds) != len(self.topics):
            raise ValueError(f"{len(self.topic_thresholds)} topic thresholds for {len(self.topics)} topics")

    @property
    def hidden_size(self) -> int:
        return self.encoder_config().hidden_size

    def encoder_config(self) -> PretrainedConfig:
        return AutoConfig.for_model(**self.encoder)


@dataclass
class NewsClfOutput(ModelOutput):
    loss: torch.Tensor | None = None
    topic_logits: torch.Tensor | None = None
    stance_logits: torch.Tensor | None = None
    pooled: torch.Tensor | None = None  # the mean-pooled encoder output the heads read (before dropout)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors that the attention mask keeps."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class NewsClfModel(PreTrainedModel):
    """Encoder + mean pooling + topic head (sigmoid per topic) + stance head (softmax).

    With ``cue_loss_weight`` > 0 a token head learns, where training records mark them, which words are
    the writer's own framing of either side and which are attributed (rationale supervision): the stance
    label turns on a few words and on whether they are quoted, which a pooled label alone teaches slowly.
    Inference reads only the two paragraph heads.

    With ``standardize_features`` the pooled vector is centred and scaled per dimension
    (``feature_mean``, ``feature_scale``: statistics of the training paragraphs, set once before
    training by :meth:`set_feature_statistics`) before the heads read it. e5-style encoders are
    anisotropic: every pooled vector points nearly the same way, so raw features differ little
    between paragraphs and fresh heads learn slowly or collapse to the majority class.
    """

    config_class = NewsClfConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _keys_to_ignore_on_load_missing = [r"feature_mean", r"feature_scale"]  # models saved before they existed

    def __init__(self, config: NewsClfConfig):
        super().__init__(config)
        self.encoder = self._drop_pooler(AutoModel.from_config(config.encoder_config()))
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.topic_head = nn.Linear(hidden, len(config.topics))
        self.stance_head = nn.Linear(hidden, len(config.stances))
        self.cue_head = nn.Linear(hidden, len(CUE_TAGS)) if config.cue_loss_weight > 0 else None
        self.register_buffer("feature_mean", torch.zeros(hidden))
        self.register_buffer("feature_scale", torch.ones(hidden))
        self.post_init()

    @staticmethod
    def _drop_pooler(encoder: nn.Module) -> nn.Module:
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # mean pooling is used instead; an unused pooler breaks DDP
        return encoder

    @classmethod
    def from_encoder(cls, checkpoint: str, **config_kwargs) -> NewsClfModel:
        """New heads on a pretrained encoder (a local folder or a hub id)."""
        encoder = cls._drop_pooler(AutoModel.from_pretrained(checkpoint))
        config = NewsClfConfig(encoder=encoder.config.to_dict(), base_model=checkpoint, **config_kwargs)
        model = cls(config)
        model.encoder = encoder
        return model

    @torch.no_grad()
    def set_feature_statistics(self, pooled: torch.Tensor) -> None:
        """Centre and scale the heads' input with these pooled vectors' per-dimension mean and std."""
        self.feature_mean.copy_(pooled.float().mean(0))
        self.feature_scale.copy_(1.0 / pooled.float().std(0).clamp(min=1e-6))

    def _init_weights(self, module):
        if module is self:
            self.feature_mean.zero_()
            self.feature_scale.fill_(1.0)
        if isinstance(module, nn.Linear) and module in (getattr(self, "topic_head", None),
                                                        getattr(self, "stance_head", None),
                                                        getattr(self, "cue_head", None)):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def get_input_embeddings(self):
        return self.encoder.get_input_embeddings()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, topic_labels=None,
                stance_labels=None, inputs_embeds=None, cue_labels=None, **kwargs) -> NewsClfOutput:
        """Either ``input_ids`` or the word vectors ``inputs_embeds`` (what the ONNX export takes)."""
        if attention_mask is None:
            attention_mask = torch.ones((input_ids if input_ids is not None else inputs_embeds).shape[:2],
                                        dtype=torch.long, device=self.device)
        inputs = {"attention_mask": attention_mask}
        inputs |= {"input_ids": input_ids} if inputs_embeds is None else {"inputs_embeds": inputs_embeds}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**inputs).last_hidden_state
        topic_logits, stance_logits, pooled = self.heads(hidden, attention_mask)
        loss = None
        if topic_labels is not None and stance_labels is not None:
            loss = self.loss(topic_logits, stance_logits, topic_labels, stance_labels)
            if cue_labels is not None and self.cue_head is not None:
                loss = loss + self.config.cue_loss_weight * self.cue_loss(self.cue_head(self.dropout(hidden)),
                                                                           cue_labels)
        return NewsClfOutput(loss=loss, topic_logits=topic_logits, stance_logits=stance_logits, pooled=pooled)

    def heads(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        """Topic logits, stance logits and the mean-pooled vector of the encoder's token vectors."""
        pooled = mean_pool(hidden, attention_mask)
        features = self.dropout((pooled - self.feature_mean) * self.feature_scale)
        return self.topic_head(features), self.stance_head(features), pooled

    def loss(self, topic_logits, stance_logits, topic_labels, stance_labels) -> torch.Tensor:
        """Weighted sum of the topic BCE (with ``topic_pos_weight``) and the stance CE (class weights); both
        take soft targets (a teacher's probabilities) as well as gold labels."""
        cfg, device = self.config, topic_logits.device
        as_tensor = lambda w: None if w is None else torch.tensor(w, dtype=torch.float32, device=device)  # noqa: E731
        pos_weight, class_weight = as_tensor(cfg.topic_pos_weight), as_tensor(cfg.stance_class_weights)
        topic = soft_binary_cross_entropy(topic_logits.float(), topic_labels.float(), pos_weight)
        stance = soft_cross_entropy(stance_logits.float(), stance_labels, class_weight)
        return cfg.topic_loss_weight * topic + cfg.stance_loss_weight * stance


    def cue_loss(self, cue_logits: torch.Tensor, cue_labels: torch.Tensor) -> torch.Tensor:
        """Class-weighted token cross-entropy over the tokens whose tag is known (label -100: unknown,
        padding, or a record without cues); 0 for a batch without any."""
        cfg = self.config
        weight = None if cfg.cue_class_weights is None else torch.tensor(cfg.cue_class_weights, dtype=torch.float32,
                                                                         device=cue_logits.device)
        known = cue_labels != -100
        if not known.any():
            return cue_logits.sum() * 0.0  # keeps the head in the graph (DDP needs every parameter used)
        return nn.functional.cross_entropy(cue_logits[known].float(), cue_labels[known], weight=weight)


def soft_binary_cross_entropy(logits: torch.Tensor, target: torch.Tensor, pos_weight: torch.Tensor | None):
    """Mean BCE in which each score counts ``pos_weight * t + (1 - t)`` times. For 0/1 targets this is
    ``F.binary_cross_entropy_with_logits(pos_weight=...)``; for a soft target t the best score stays t
    (weighting only the positive term, as PyTorch does, would move it up to p*t / (p*t + 1 - t))."""
    bce = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    if pos_weight is None:
        return bce.mean()
    return ((pos_weight[None, :] * target + (1 - target)) * bce).mean()


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Class-weighted cross-entropy against class indices or distributions (a teacher's soft labels): each
    row counts its target's expected class weight, and the mean is over those weights. For one-hot targets
    this is ``F.cross_entropy(weight=...)``; for a distribution the best prediction stays the distribution
    (weighting each class's term, as PyTorch does, would move it towards the rare classes, turning a
    teacher's doubtful neutral into a framed stance). An all-zero target row (a stance not taught) weighs 0."""
    if target.ndim == 1:
        target = nn.functional.one_hot(target.long(), logits.shape[-1])
    target = target.float()
    row_weight = (target * weight[None, :]).sum(-1) if weight is not None else target.sum(-1)
    ce = -(target * nn.functional.log_softmax(logits, -1)).sum(-1)
    return (row_weight * ce).sum() / row_weight.sum().clamp_min(1e-12)


def weight_soup(models: Sequence[NewsClfModel]) -> NewsClfModel:
    """One model whose weights are the uniform average of ``models``' (a "model soup", Wortsman et al. 2022):
    fine-tuned runs from the same initialisation, or checkpoints of one run. Integer buffers and the config
    come from the first model; its decision rules are reset (thresholds 0.5, no stance prior weights), since the
    soup's scores differ from each ingredient's: tune them again on dev."""
    if len(models) < 2:
        raise ValueError(f"a weight soup needs at least two models, got {len(models)}")
    states = [m.state_dict() for m in models]
    for i, state in enumerate(states[1:], start=2):
        for key, value in states[0].items():
            if key not in state or state[key].shape != value.shape:
                found = "missing" if key not in state else f"shape {tuple(state[key].shape)}"
                raise ValueError(f"model {i} does not match model 1 at {key!r} ({found}, expected "
                                 f"{tuple(value.shape)}): a soup needs one architecture")
        if extra := sorted(state.keys() - states[0].keys()):
            raise ValueError(f"model {i} has tensors model 1 lacks: {extra[:3]}")
    soup = copy.deepcopy(models[0])
    soup.load_state_dict({key: torch.stack([s[key].float() for s in states]).mean(0).to(value.dtype)
                          if value.is_floating_point() else value for key, value in states[0].items()})
    soup.config.topic_thresholds = [0.5] * len(soup.config.topics)
    soup.config.stance_prior_weights = None
    return soup


AutoConfig.register(NewsClfConfig.model_type, NewsClfConfig, exist_ok=True)
AutoModel.register(NewsClfConfig, NewsClfModel, exist_ok=True)
