import time

import numpy as np
import pytest

from newsclf import Classifier, classify
from newsclf.loading import from_folder, looks_local, resolve

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]


def test_a_saved_folder_gives_config_tokenizer_and_lazy_weights(trained_model):
    source = from_folder(trained_model)
    assert source.folder == trained_model and source.config.model_type == "newsclf"
    vectors = source.word_embeddings()
    model = source.build_model()
    assert np.allclose(vectors, model.get_input_embeddings().weight.detach().numpy())


@pytest.mark.parametrize("name, local", [("/nonexistent", True), ("./model", True), ("../runs/x/model", True),
                                         ("~/models/x", True), ("runs/a/model", True), ("org/name", False),
                                         ("no_such_dir", False)])
def test_names_that_can_only_be_paths_are_paths(name, local):
    assert looks_local(name) is local


def test_a_missing_local_path_is_named_not_sent_to_the_hub():
    with pytest.raises(FileNotFoundError, match="model folder not found: /nonexistent"):
        resolve("/nonexistent")
    with pytest.raises(FileNotFoundError, match="model folder not found: ./nope/model"):
        classify("نص", model="./nope/model")


def test_a_folder_without_a_model_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a saved newsclf model: it has no config.json"):
        Classifier.from_pretrained(tmp_path)


def test_offline_a_hub_id_fails_fast_saying_so(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(OSError, match="HF_HUB_OFFLINE is set"):
        resolve("no_such_dir")
    assert time.perf_counter() - start < 5
