"""Where and how batches of token windows run: a backend (PyTorch or ONNX Runtime) and a number format.

``backend`` is ``"torch"`` or ``"onnx"``; ``precision`` is ``"fp32"``, ``"bf16"``, ``"fp16"``
(torch) or ``"fp32"``, ``"int8"`` (onnx); ``"auto"`` for either picks the fastest choice that
keeps accuracy on the hardware at hand (:func:`choose_runtime`). :func:`load_runner` builds the
runner from a :class:`~newsclf.loading.ModelSource`; the ONNX runner never builds the PyTorch
model (it only needs the word-embedding matrix). :func:`run_windows` runs windows in
token-budget batches, preparing the next batches in a background thread.
"""
from __future__ import annotations

import warnings
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .batching import (max_over_windows, mean_over_windows, pad_windows, prefetch, token_budget_batches,
                       token_windows)
from .labels import STANCES, TOPICS
from .metrics import reweight

BACKENDS = ("auto", "torch", "onnx")
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
BACKEND_PRECISIONS = {"torch": ("fp32", "bf16", "fp16"), "onnx": ("fp32", "int8")}
# Tokens in one block of a reduced-precision run on an AMX CPU (TorchRunner): on 2 AMX cores, bf16
# in blocks of 1,024 tokens ran a corpus 1.94x as fast as fp32 (2.40x unblocked, 2.21x at 2,048
# tokens) and one paragraph at a time 0.30x (0.14x at 2,048): scripts/bench/bf16_blocks.py.
AMX_BLOCK_TOKENS = 1024
ONNX_FILES = {"fp32": "onnx/model.onnx", "int8": "onnx/model-int8.onnx"}
DEPRECATED_PRECISIONS = {"onnx": ("onnx", "fp32"), "onnx-int8": ("onnx", "int8")}


def probabilities(topic_logits: torch.Tensor, stance_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Topic probabilities (a sigmoid per topic) and stance probabilities (softmax), in fp32."""
    return torch.sigmoid(topic_logits.float()), torch.softmax(stance_logits.float(), -1)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where that cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    return frozenset(next((line.split(":", 1)[1].split() for line in text.splitlines()
                           if line.startswith("flags")), ()))


def cpu_has_native_bf16() -> bool:
    """AMX or AVX-512 BF16."""
    return bool({"amx_bf16", "avx512_bf16"} & cpu_flags())


def resolve_device(device) -> torch.device:
    """A torch.device; ``None`` is CUDA when present, else the CPU. An unusable device is a ValueError
    that says which devices this machine has."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str such as 'cpu' or 'cuda:0', or a torch.device, got "
                        f"{type(device).__name__}")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not a device name; use 'cpu', 'cuda' or 'cuda:N'") from None
    available = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"device {str(device)!r} is not available: CUDA "
                         f"{'has no such GPU' if torch.cuda.is_available() else 'is not available here'}; "
                         f"available devices: {available}")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {str(device)!r} is not supported; available devices: {available}")
    return device


def choose_runtime(backend: str, precision: str, device: torch.device, model_dir: Path | None) -> tuple[str, str]:
    """Resolve ``"auto"`` for backend and precision; check that a forced choice is possible here.

    Auto: CUDA runs torch in bf16 (fp16 where bf16 is missing); a CPU with native bf16 (AMX or
    AVX-512 BF16) runs torch in bf16; other CPUs run torch in fp32 (emulated bf16 is slower
    than fp32). ONNX Runtime is used when asked for, in int8 when the model folder has that
    export: it is no longer chosen automatically, since its dynamic quantisation made a
    paragraph's scores depend on its batch (it now runs windows one at a time, which is slower).
    """
    if precision in DEPRECATED_PRECISIONS:
        warnings.warn(f"precision={precision!r} is deprecated: use backend={DEPRECATED_PRECISIONS[precision][0]!r}, "
                      f"precision={DEPRECATED_PRECISIONS[precision][1]!r}", FutureWarning, stacklevel=3)
        backend, precision = DEPRECATED_PRECISIONS[precision]
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if backend == "auto":
        backend = "onnx" if precision == "int8" else "torch"
    if precision == "auto":
        if backend == "onnx":
            has_int8 = model_dir is not None and (model_dir / ONNX_FILES["int8"]).is_file()
            precision = "int8" if has_int8 else "fp32"
        elif device.type == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "bf16" if cpu_has_native_bf16() else "fp32"
    if precision not in BACKEND_PRECISIONS[backend]:
        raise ValueError(f"backend {backend!r} runs precision {BACKEND_PRECISIONS[backend]}, not {precision!r}")
    if backend == "onnx":
        if device.type != "cpu":
            raise ValueError("the ONNX backend runs on the CPU; pass device='cpu'")
        if model_dir is None or not (model_dir / ONNX_FILES[precision]).is_file():
            raise FileNotFoundError(f"backend 'onnx' with precision {precision!r} needs {ONNX_FILES[precision]} in "
                                    f"the model folder ({model_dir}); create it with: newsclf export MODEL --onnx"
                                    + (" --int8" if precision == "int8" else ""))
    return backend, precision


def load_runner(source, device=None, backend: str = "auto", precision: str = "auto"):
    """The runner for a :class:`~newsclf.loading.ModelSource` on ``device``."""
    device = resolve_device(device)
    backend, precision = choose_runtime(backend, precision, device, source.folder)
    pad_id = source.tokenizer.pad_token_id
    if backend == "onnx":
        return OnnxRunner(source.folder / ONNX_FILES[precision], source.word_embeddings(), pad_id, precision)
    return TorchRunner(source.build_model(), device, precision, pad_id)


class TorchRunner:
    """Runs the PyTorch model; bf16 and fp16 are autocast (matrix products in the reduced type, the
    residual stream, LayerNorms and softmax in fp32): casting all weights would round every layer's
    output. On AMX CPUs, reduced precision runs in fixed-shape blocks (see :meth:`__call__`)."""

    backend = "torch"

    def __init__(self, model, device: torch.device, precision: str, pad_id: int):
        self.device, self.precision, self.pad_id = device, precision, pad_id
        self.dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self.model = model.to(device).eval()
        amx = device.type == "cpu" and precision != "fp32" and "amx_bf16" in cpu_flags()
        self.block_tokens = AMX_BLOCK_TOKENS if amx else 0  # see __call__; 0: a batch runs whole

    def prepare(self, windows: list) -> dict[str, torch.Tensor]:
        """Padded, pinned (on CUDA) input tensors for one batch; runs in the loader thread."""
        ids, mask = pad_windows(windows, self.pad_id)
        batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if self.device.type == "cuda":
            batch = {k: v.pin_memory() for k, v in batch.items()}
        return batch

    def __call__(self, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Topic probabilities, stance probabilities and mean-pooled encoder outputs of one batch.

        On an AMX CPU in bf16 or fp16 it runs in blocks of ``block_tokens // width`` rows, the last
        one filled up with copies of its last row: oneDNN's AMX kernels sum in an order set by the
        number of rows, so a window's scores would otherwise depend on how many windows share its
        batch (up to 0.02 on the default model; AVX-512 BF16 without AMX gave equal scores)."""
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        if not self.block_tokens:
            return self._forward(batch)
        rows, step = len(batch["input_ids"]), max(1, self.block_tokens // batch["input_ids"].shape[1])
        filled = {k: torch.cat([v, v[-1:].expand(-rows % step, -1)]) for k, v in batch.items()}
        blocks = [self._forward({k: v[i:i + step] for k, v in filled.items()}) for i in range(0, rows, step)]
        return tuple(np.concatenate(part)[:rows] for part in zip(*blocks))

    def _forward(self, batch: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        autocast = (torch.autocast(self.device.type, dtype=self.dtype) if self.dtype != torch.float32
                    else nullcontext())
        with torch.inference_mode(), autocast:
            out = self.model(**batch)
            topic, stance = probabilities(out.topic_logits, out.stance_logits)
        return topic.cpu().numpy(), stance.cpu().numpy(), out.pooled.float().cpu().numpy()


class OnnxRunner:
    """Runs an exported model with ONNX Runtime on the CPU; the word vectors are looked up here.

    The int8 graph is dynamically quantised: each matrix product takes its activation scale from
    the whole input tensor, so in a batch a paragraph's scores would depend on its neighbours
    (and on their padding). int8 therefore runs each window on its own, unpadded."""

    backend = "onnx"

    def __init__(self, path: Path, word_embeddings: np.ndarray, pad_id: int, precision: str):
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.embeddings = np.ascontiguousarray(word_embeddings, dtype=np.float32)
        self.pad_id, self.precision = pad_id, precision
        self.outputs = {o.name for o in self.session.get_outputs()}

    def prepare(self, windows: list) -> dict[str, np.ndarray]:
        ids, mask = pad_windows(windows, self.pad_id)
        return {"inputs_embeds": self.embeddings[ids], "attention_mask": mask}

    def __call__(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """As :meth:`TorchRunner.__call__`; a graph exported without the ``pooled`` output gives None for it."""
        names = [n for n in ("topic_probs", "stance_probs", "pooled") if n in self.outputs]
        if self.precision == "int8":
            rows = [self.session.run(names, {"inputs_embeds": batch["inputs_embeds"][i:i + 1, :n],
                                             "attention_mask": batch["attention_mask"][i:i + 1, :n]})
                    for i, n in enumerate(batch["attention_mask"].sum(1))]
            outputs = [np.concatenate(parts) for parts in zip(*rows)]
        else:
            outputs = self.session.run(names, batch)
        topic, stance, *pooled = outputs
        return topic, stance, (pooled[0] if pooled else None)


def run_texts(runner, tokenizer, texts: list[str], config, batch_size: int,
              progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-text topic probabilities (max over windows), stance probabilities (token-weighted mean over
    windows, prior-shifted by the config's ``stance_prior_weights``) and pooled vectors (mean over
    windows; None where the runner has none) of preprocessed texts."""
    if not texts:
        return np.zeros((0, len(TOPICS)), np.float32), np.zeros((0, len(STANCES)), np.float32), None
    windows, owner = token_windows(tokenizer, texts, config.max_seq_length, config.window_stride)
    lengths = [len(w) for w in windows]
    topic, stance, vectors = run_windows(runner, windows, batch_size, config.max_seq_length, progress)
    mean = lambda v: None if v is None else mean_over_windows(v, owner, lengths, len(texts))  # noqa: E731
    stance = mean(stance)
    if config.stance_prior_weights:
        stance = reweight(stance, config.stance_prior_weights)
    return max_over_windows(topic, owner, len(texts)), stance, mean(vectors)


def run_windows(runner, windows: list, batch_size: int, max_seq_length: int,
                progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-window topic probabilities, stance probabilities and pooled vectors (None where the runner
    has none), in window order, from token-budget batches of at most ``batch_size`` windows."""
    batches = token_budget_batches([len(w) for w in windows], max_tokens=batch_size * max_seq_length,
                                   max_batch=batch_size)
    outputs: list = [None, None, None]
    loader = prefetch((b, runner.prepare([windows[i] for i in b])) for b in batches)
    for batch, inputs in tqdm(loader, total=len(batches), desc="classify", unit="batch", disable=not progress):
        for k, value in enumerate(_run(runner, inputs, [windows[i] for i in batch])):
            if value is None:
                continue
            if outputs[k] is None:
                outputs[k] = np.zeros((len(windows), value.shape[1]), np.float32)
            outputs[k][batch] = value
    return tuple(outputs)


def _run(runner, inputs, windows: list) -> tuple:
    """One batch; on CUDA out-of-memory, run it again as two halves (recursively)."""
    try:
        return runner(inputs)
    except torch.cuda.OutOfMemoryError:
        if len(windows) == 1:
            raise
        torch.cuda.empty_cache()
        half = len(windows) // 2
        parts = [_run(runner, runner.prepare(w), w) for w in (windows[:half], windows[half:])]
        return tuple(None if p[0] is None else np.concatenate(p) for p in zip(*parts))
