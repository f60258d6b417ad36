from pathlib import Path

import pytest
import yaml

from newsclf.config import ConfigError, load_config, reference_markdown

from conftest import TINY_CONFIG


def write(tmp_path, raw):
    (tmp_path / "train.jsonl").write_text("{}\n")
    (tmp_path / "dev.jsonl").write_text("{}\n")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


BASE = {"data": {"train": "train.jsonl", "dev": "dev.jsonl"}, "output": {"dir": "out"}}


def test_shipped_configs_validate():
    cfg = load_config(TINY_CONFIG)
    assert cfg.model.checkpoint.endswith("tiny-bert") and cfg.data.test.name == "test.jsonl"
    arabert = load_config(TINY_CONFIG.parent / "arabert-base.yaml")
    assert arabert.model.checkpoint == "aubmindlab/bert-base-arabertv02"  # a hub id stays a hub id
    assert load_config(TINY_CONFIG.parent / "continue-default.yaml").model.init_from == "default"


def test_paths_resolve_against_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    cfg = load_config(write(tmp_path, BASE))
    assert cfg.data.train == (tmp_path / "train.jsonl").resolve()
    assert cfg.output.dir == (tmp_path / "out").resolve()
    assert cfg.training.learning_rate == 3e-5  # defaults fill the rest


@pytest.mark.parametrize("change, message", [
    ({"training": {"learnig_rate": 1e-4}},
     "unknown key 'training.learnig_rate' (did you mean 'training.learning_rate'?)"),
    ({"modle": {}}, "unknown key 'modle' (did you mean 'model'?)"),
    ({"training": {"epochs": "three"}}, "key 'training.epochs'"),
    ({"training": {"mixed_precision": "fp8"}}, "key 'training.mixed_precision'"),
    ({"training": {"batch_size": 0}}, "key 'training.batch_size'"),
    ({"data": {"train": "train.jsonl"}}, "key 'data.dev' is required"),
    ({"data": {"train": "nope.jsonl", "dev": "dev.jsonl"}}, "key 'data.train': file not found"),
    ({"data": {"train": "train.jsonl", "dev": "dev.jsonl", "pseudo_labels": "nope.jsonl"}},
     "key 'data.pseudo_labels': file not found"),
    ({"model": {"checkpoint": "./no-such-model"}}, "key 'model.checkpoint': no such folder"),
    ({"model": {"init_from": "./no-such-run/model"}}, "key 'model.init_from': no such folder"),
])
def test_bad_configs_name_the_key(tmp_path, change, message):
    raw = {**BASE, **change}
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_unreadable_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("model: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(tmp_path / "list.yaml")


README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_config_table_is_generated_from_the_schema():
    text = README.read_text(encoding="utf-8")
    begin, end = "<!-- config-keys:begin -->", "<!-- config-keys:end -->"
    table = text[text.index(begin) + len(begin):text.index(end)].strip()
    assert table == reference_markdown().strip(), (
        "README's config table differs from newsclf.config; regenerate it with "
        "`python -c 'from newsclf.config import reference_markdown; print(reference_markdown())'`")


def test_every_key_has_a_description():
    assert "| None |" not in reference_markdown()


def test_overrides_are_validated_like_the_file(tmp_path):
    path = write(tmp_path, BASE)
    cfg = load_config(path, ["training.learning_rate=1e-4", "model.max_seq_length=32"])
    assert cfg.training.learning_rate == 1e-4 and cfg.model.max_seq_length == 32
    with pytest.raises(ConfigError, match="unknown key 'training.learnig_rate'"):
        load_config(path, ["training.learnig_rate=1e-4"])
    with pytest.raises(ConfigError, match="must look like section.key=value"):
        load_config(path, ["training.learning_rate"])


def test_old_key_names_still_load_with_a_warning(tmp_path):
    with pytest.warns(FutureWarning, match="max_length' is deprecated"):
        cfg = load_config(write(tmp_path, {**BASE, "model": {"max_length": 96}}))
    assert cfg.model.max_seq_length == 96


def test_layer_counts_are_checked_with_the_other_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"'model.freeze_layers' is 5, but the encoder .* has 2 layers"):
        load_config(TINY_CONFIG, ["model.freeze_layers=5"])
