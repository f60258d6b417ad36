"""Shared fixtures: the tiny BERT of tests/fixtures (the one fixture model, also named by
configs/tiny-test.yaml) and one trained tiny model for the whole session."""
import json
import shutil
from pathlib import Path

import pytest

from newsclf.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TINY_CONFIG = ROOT / "configs" / "tiny-test.yaml"
TINY_BERT = ROOT / "tests" / "fixtures" / "tiny-bert"  # rebuilt by scripts/release/make_test_fixtures.py


def read_jsonl(path):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


@pytest.fixture(scope="session")
def tiny_bert() -> Path:
    """The random tiny BERT with a WordPiece tokenizer trained on tests/data."""
    return TINY_BERT


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory):
    """configs/tiny-test.yaml (on the tiny BERT), writing to a temporary folder."""
    cfg = load_config(TINY_CONFIG)
    assert Path(cfg.model.checkpoint) == TINY_BERT.resolve()
    cfg.output.dir = tmp_path_factory.mktemp("run")
    return cfg


@pytest.fixture(scope="session")
def trained_model(tiny_config) -> Path:
    """A model trained once per session from the tiny config (save -> this folder)."""
    from newsclf.trainer import train

    return train(tiny_config)


@pytest.fixture()
def fresh_output(tiny_config, tmp_path):
    cfg = tiny_config.model_copy(deep=True)
    cfg.output.dir = tmp_path / "run"
    return cfg


@pytest.fixture(autouse=True)
def _isolated_cache(monkeypatch, tmp_path_factory):
    """Keep converted backbones out of the user's cache, shared within the session."""
    cache = tmp_path_factory.getbasetemp() / "newsclf-cache"
    monkeypatch.setenv("NEWSCLF_CACHE", str(cache))
    yield
    shutil.rmtree(cache / "never", ignore_errors=True)
