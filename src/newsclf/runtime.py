"""How a batch of token windows is run: PyTorch (fp32, bf16, fp16) or ONNX Runtime (fp32, int8).

``choose_precision("auto", ...)`` picks the fastest path that keeps accuracy on the hardware
at hand: bf16 autocast on CUDA (fp16 where bf16 is missing); on CPU, bf16 weights only when
the CPU computes bf16 natively (AMX or AVX-512 BF16; emulated bf16 is slower than fp32), else
the int8 ONNX export when the model folder has one (``newsclf export --onnx --int8``), else
fp32. Any path can be forced by name.
"""
from __future__ import annotations

from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16", "onnx", "onnx-int8")
ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model-int8.onnx"}


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """AMX or AVX-512 BF16 in /proc/cpuinfo (Linux); False where that cannot be read."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def choose_precision(precision: str, device: torch.device, model_dir: Path | None) -> str:
    """Resolve ``"auto"`` to a concrete path; check a forced one is possible here."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision.startswith("onnx"):
        if model_dir is None or not (model_dir / ONNX_FILES[precision]).is_file():
            raise FileNotFoundError(f"precision {precision!r} needs {ONNX_FILES[precision]} in the model folder "
                                    f"({model_dir}); create it with: newsclf export MODEL --onnx"
                                    + (" --int8" if precision == "onnx-int8" else ""))
        if device.type != "cpu":
            raise ValueError("the ONNX paths run on the CPU; pass device='cpu'")
        return precision
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if cpu_has_native_bf16():
        return "bf16"
    if model_dir is not None and (model_dir / ONNX_FILES["onnx-int8"]).is_file():
        return "onnx-int8"
    return "fp32"


class TorchRunner:
    """Runs the PyTorch model; on CUDA reduced precision is autocast, on CPU the weights are cast."""

    def __init__(self, model, device: torch.device, precision: str, pad_id: int):
        self.device, self.precision, self.pad_id = device, precision, pad_id
        self.dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        model = model.to(device).eval()
        if device.type == "cpu" and self.dtype != torch.float32:
            model = model.to(self.dtype)
        self.model = model

    def prepare(self, windows: list[list[int]]) -> dict[str, torch.Tensor]:
        """Padded, pinned (on CUDA) input tensors for one batch; runs in the loader thread."""
        ids, mask = pad_windows(windows, self.pad_id)
        batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if self.device.type == "cuda":
            batch = {k: v.pin_memory() for k, v in batch.items()}
        return batch

    def __call__(self, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        autocast = (torch.autocast("cuda", dtype=self.dtype)
                    if self.device.type == "cuda" and self.dtype != torch.float32 else nullcontext())
        with torch.inference_mode(), autocast:
            out = self.model(**batch)
            topic = torch.sigmoid(out.topic_logits.float())
            stance = torch.softmax(out.stance_logits.float(), -1)
        return topic.cpu().numpy(), stance.cpu().numpy()


class OnnxRunner:
    """Runs an exported model with ONNX Runtime on the CPU; the word vectors are looked up here."""

    def __init__(self, path: Path, word_embeddings: np.ndarray, pad_id: int, precision: str):
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.embeddings = np.ascontiguousarray(word_embeddings, dtype=np.float32)
        self.pad_id, self.precision = pad_id, precision

    def prepare(self, windows: list[list[int]]) -> dict[str, np.ndarray]:
        ids, mask = pad_windows(windows, self.pad_id)
        return {"inputs_embeds": self.embeddings[ids], "attention_mask": mask}

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        topic, stance = self.session.run(["topic_probs", "stance_probs"], batch)
        return topic, stance


def pad_windows(windows: list, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded int64 ids and attention mask for windows of different lengths."""
    width = max(len(w) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, w in enumerate(windows):
        ids[row, :len(w)] = w
        mask[row, :len(w)] = 1
    return ids, mask
