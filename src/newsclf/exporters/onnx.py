"""Export a saved model to ONNX (``<model>/onnx/model.onnx``) and, optionally, an int8 copy
made by ONNX Runtime's dynamic quantisation, per output channel (``model-int8.onnx``). The graph starts after the
word-embedding lookup: it takes ``inputs_embeds`` and ``attention_mask`` and returns
``topic_probs`` (sigmoid), ``stance_probs`` (softmax) and ``pooled`` (the mean-pooled
encoder output, for :meth:`newsclf.Classifier.embed`). The runner looks the word vectors up
from the model's own embedding matrix, so a 250k-piece vocabulary does not weigh on the
graph (the int8 graph of e5-small is about 22 MB instead of 120 MB).
:class:`newsclf.Classifier` runs it with ``backend="onnx"`` (``precision="fp32"`` or ``"int8"``).
"""
from __future__ import annotations

import json
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


def export_onnx(model: NewsClfModel, model_dir: str | Path, int8: bool = False, opset: int = 17) -> list[Path]:
    """Write the ONNX graph (and its int8 quantisation) into ``<model_dir>/onnx/``."""
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
        from onnxruntime.quantization import QuantType, quantize_dynamic

        target = model_dir / ONNX_FILES["int8"]
        quantize_dynamic(str(path), str(target), weight_type=QuantType.QInt8, per_channel=True)
        written.append(target)
    (path.parent / "export.json").write_text(json.dumps({"opset": opset, "files": [p.name for p in written],
                                                         "torch": torch.__version__}, indent=1))
    return written
