"""Export a saved model to ONNX (``<model>/onnx/model.onnx``) and, optionally, an int8 copy
made by ONNX Runtime's dynamic quantisation, per output channel (``model-int8.onnx``). The graph starts after the
word-embedding lookup: it takes ``inputs_embeds`` and ``attention_mask`` and returns
``topic_probs`` (sigmoid), ``stance_probs`` (softmax) and ``pooled`` (the mean-pooled
encoder output, for :meth:`newsclf.Classifier.embed`). The runner looks the word vectors up
from the model's own embedding matrix, so a 250k-piece vocabulary does not weigh on the
graph (the int8 graph of e5-small is about 22 MB instead of 120 MB).
:class:`newsclf.Classifier` runs it with ``backend="onnx"`` (``precision="fp32"`` or ``"int8"``).

Dynamic quantisation gives each activation one int8 scale per tensor, so a layer whose input has a
few channels far larger than the rest (the "massive activations" of some feed-forward outputs)
loses its ordinary channels to rounding. :func:`outlier_layers` finds those layers by running the
model on a few paragraphs, and ``export_onnx(..., fp32_layers=...)`` leaves them unquantised. For
the default model (v12) they are the feed-forward outputs of layers 0, 1, 4 and 5 (input max over
RMS 90-250, every other layer under 75); keeping them in fp32 grows the int8 graph from 22 to 29 MB.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from ..modeling import NewsClfModel
from ..runtime import ONNX_FILES, probabilities


class _Probabilities(torch.nn.Module):
    def __init__(self, model: NewsClfModel):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, attention_mask):
        out = self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        return (*probabilities(out.topic_logits, out.stance_logits), out.pooled)


# Input largest |value| over its root mean square above which a linear layer stays fp32 in the int8 graph.
OUTLIER_RATIO = 80.0
# Paragraphs that outlier_layers runs when given none: massive activations show on nearly any input,
# and the ranking of layers they give matched that of 400 dev paragraphs for the default model.
CALIBRATION_TEXTS = (
    "أعلنت الأمم المتحدة وصول قافلة مساعدات إنسانية إلى الغوطة الشرقية المحاصرة، تحمل أغذية وأدوية لآلاف المدنيين.",
    "قصفت طائرات حربية أحياء في مدينة حلب، ما أدى إلى مقتل عشرة مدنيين وإصابة آخرين، وفق ناشطين.",
    "قال وزير الخارجية إن المفاوضات في جنيف ستستأنف الأسبوع المقبل بمشاركة وفدي الحكومة والمعارضة.",
    "نزح آلاف السكان من ريف إدلب الجنوبي نحو الحدود التركية هرباً من المعارك، وسط نقص في الخيام.",
    "أكدت وكالة الأنباء الرسمية أن وحدات الجيش أعادت الأمن والاستقرار إلى عدد من القرى بعد القضاء على الإرهابيين.",
    "اتهمت فصائل المعارضة قوات النظام بخرق اتفاق وقف إطلاق النار واستهداف المستشفيات والمدارس.",
    "ارتفعت أسعار الخبز والوقود في دمشق مع استمرار الأزمة الاقتصادية وانقطاع الكهرباء لساعات طويلة.",
    "عقد مجلس الأمن جلسة طارئة لبحث الوضع الإنساني في سوريا، دون التوصل إلى قرار.",
)


def outlier_ratios(model: NewsClfModel, tokenizer, texts: Sequence[str] = CALIBRATION_TEXTS) -> dict[str, float]:
    """Per linear layer of the encoder: its input's largest |value| over its root mean square, on ``texts``
    (run as :class:`newsclf.Classifier` runs them, torch fp32 on the model's device; its mode is kept)."""
    from ..inference import Classifier

    stats: dict[str, list[float]] = {}

    def record(name):
        def hook(module, inputs, output):
            x = inputs[0].detach().float()
            s = stats.setdefault(name, [0.0, 0.0, 0])
            s[0], s[1], s[2] = max(s[0], x.abs().max().item()), s[1] + x.pow(2).sum().item(), s[2] + x.numel()
        return hook

    hooks = [m.register_forward_hook(record(name)) for name, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and name.startswith("encoder.")]
    was_training, device = model.training, next(model.parameters()).device
    try:
        Classifier.from_model(model, tokenizer, device=device, backend="torch", precision="fp32").predict_proba(
            list(texts), batch_size=8)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return {name: top / max((total / n) ** 0.5, 1e-12) for name, (top, total, n) in stats.items()}


def outlier_layers(model: NewsClfModel, tokenizer, texts: Sequence[str] = CALIBRATION_TEXTS,
                   ratio: float = OUTLIER_RATIO) -> list[str]:
    """The encoder's linear layers whose input's largest |value| exceeds ``ratio`` times its RMS on ``texts``:
    the ones to keep in fp32 (``export_onnx(..., fp32_layers=...)``)."""
    return sorted(name for name, r in outlier_ratios(model, tokenizer, texts).items() if r > ratio)


def _matmul_node(layer: str) -> str:
    """The exported graph's MatMul for a linear layer: module scopes joined by '/', list indices by '.'."""
    return "/model/" + re.sub(r"\.(?!\d)", "/", layer) + "/MatMul"


def export_onnx(model: NewsClfModel, model_dir: str | Path, int8: bool = False, opset: int = 17,
                fp32_layers: Sequence[str] = ()) -> list[Path]:
    """Write the ONNX graph (and its int8 quantisation, ``fp32_layers`` left unquantised) into
    ``<model_dir>/onnx/``."""
    model_dir = Path(model_dir)
    path = model_dir / ONNX_FILES["fp32"]
    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    wrapper = _Probabilities(model.float()).eval()  # the exporter restores the wrapper's mode afterwards
    hidden = model.get_input_embeddings().embedding_dim
    example = (torch.zeros(2, 16, hidden), torch.ones(2, 16, dtype=torch.long))
    with torch.inference_mode():
        torch.onnx.export(wrapper, example, str(path), input_names=["inputs_embeds", "attention_mask"],
                          output_names=["topic_probs", "stance_probs", "pooled"], opset_version=opset, dynamo=False,
                          dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "topic_probs": {0: "batch"}, "stance_probs": {0: "batch"},
                                        "pooled": {0: "batch"}})
    model.train(was_training)
    written = [path]
    if int8:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        matmuls = {n.name for n in onnx.load(str(path), load_external_data=False).graph.node if n.op_type == "MatMul"}
        keep = [_matmul_node(layer) for layer in fp32_layers]
        if missing := [layer for layer, node in zip(fp32_layers, keep) if node not in matmuls]:
            raise ValueError(f"fp32_layers {missing} have no MatMul node in {path} (looked for "
                             f"{[_matmul_node(layer) for layer in missing]}): give names from outlier_layers()")
        target = model_dir / ONNX_FILES["int8"]
        quantize_dynamic(str(path), str(target), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)
        written.append(target)
    (path.parent / "export.json").write_text(json.dumps({"opset": opset, "files": [p.name for p in written],
                                                         "int8_fp32_layers": list(fp32_layers) if int8 else [],
                                                         "torch": torch.__version__}, indent=1))
    return written
