import numpy as np
import pytest

from newsclf.backbones.e5_file import BLOCK, Q4_BLOCK_BYTES, default_path, dequantize_q4, read_e5_file


def test_header_and_vocabulary_of_the_bundled_file():
    f = read_e5_file()
    assert f.path == default_path() and f.path.name == "e5-small-q4.bin"
    assert (f.hidden, f.layers, f.heads, f.ffn, f.max_positions) == (384, 12, 12, 1536, 512)
    assert len(f.pieces) == 250002 and f.vocab >= len(f.pieces)
    assert [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert f.pieces[-1] == "<mask>" and len(f.normalization) > 1000
    assert f.tensor("emb.ln.w", (384,)).dtype == np.float32
    assert f.tensor("l0.q.w", (384, 384)).shape == (384, 384)
    with pytest.raises(KeyError):
        f.tensor("l99.q.w", (384, 384))


def test_q4_blocks_dequantize_low_then_high_nibbles():
    scale = np.array([0.5], dtype="<f2").view(np.uint8)
    nibbles = np.array([(j % 16) | (((15 - j) % 16) << 4) for j in range(16)], dtype=np.uint8)
    block = np.concatenate([scale, nibbles])
    assert len(block) == Q4_BLOCK_BYTES
    values = dequantize_q4(block, BLOCK)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_a_file_that_is_not_e5s1_is_refused(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not an E5S1 file"):
        read_e5_file(tmp_path / "x.bin")
