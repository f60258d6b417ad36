import json
import shutil

import pytest

from newsclf.cli import main

from conftest import DATA, ROOT, TINY_CONFIG


def test_train_evaluate_predict_from_the_command_line(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    text = TINY_CONFIG.read_text().replace("../", str(ROOT) + "/")
    text = text.replace(f"{ROOT}/runs/tiny-test", str(tmp_path / "run"))
    config.write_text(text)
    assert main(["train", str(config)]) == 0
    model = tmp_path / "run" / "model"
    assert main(["evaluate", str(model), str(DATA / "test.jsonl"), "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "micro-F1" in out and "95 % intervals" in out and (tmp_path / "eval" / "confusion_matrix.png").is_file()
    assert main(["evaluate", str(model), str(DATA / "test.jsonl"), "--out", str(tmp_path / "e0"),
                 "--resamples", "0"]) == 0
    assert "95 % intervals" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["evaluate", str(model), str(DATA / "test.jsonl"), "--resamples", "-1"])
    assert "non-negative whole number, got -1" in capsys.readouterr().err
    txt = tmp_path / "in.txt"
    txt.write_text("\n".join(json.loads(line)["text"] for line in open(DATA / "dev.jsonl", encoding="utf-8")))
    assert main(["predict", str(txt), str(tmp_path / "p.jsonl"), "--model", str(model)]) == 0
    assert sum(1 for _ in open(tmp_path / "p.jsonl")) == 40
    assert main(["train", str(config)]) == 2  # checkpoints exist: asks for --resume
    assert "--resume" in capsys.readouterr().err


def test_config_errors_are_reported_not_raised(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {train: a.jsonl, dev: b.jsonl}\noutput: {dir: x}\ntraning: {}\n")
    assert main(["train", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'traning'" in err and str(bad) in err


def test_data_errors_name_the_file_and_line(trained_model, tmp_path, capsys):
    shutil.copy(DATA / "test.jsonl", tmp_path / "t.jsonl")
    with open(tmp_path / "t.jsonl", "a") as f:
        f.write('{"id": "z", "text": "نص", "topics": ["sport"], "stance": "neutral"}\n')
    assert main(["evaluate", str(trained_model), str(tmp_path / "t.jsonl"), "--out", str(tmp_path / "e")]) == 2
    assert "t.jsonl:41: field 'topics' has unknown topic 'sport'" in capsys.readouterr().err


def test_os_errors_are_one_line_without_traceback(trained_model, tmp_path, capsys):
    src = tmp_path / "in.txt"
    src.write_text("قصفت الطائرات مدينة حلب\n", encoding="utf-8")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # an output 'folder' that is a file: unwritable even for root, like a read-only one
    assert main(["predict", str(src), str(blocker / "out.jsonl"), "--model", str(trained_model)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsclf predict: error:") and "not-a-folder" in err and "Traceback" not in err
    assert main(["predict", str(tmp_path / "missing.txt"), str(tmp_path / "o.jsonl"), "--model",
                 str(trained_model)]) == 2
    err = capsys.readouterr().err
    assert "input file not found" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["predict", str(src), str(tmp_path / "o2.jsonl"), "--model", "/nonexistent/model"]) == 2
    assert "model folder not found: /nonexistent/model" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        main(["--debug", "predict", str(tmp_path / "missing.txt"), str(tmp_path / "o3.jsonl"), "--model",
              str(trained_model)])


def test_bad_arguments_name_the_allowed_values(trained_model, tmp_path, capsys):
    src = tmp_path / "in.txt"
    src.write_text("قصفت الطائرات مدينة حلب\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["predict", str(src), str(tmp_path / "o.jsonl"), "--batch-size", "0"])
    assert "expected a positive whole number, got 0" in capsys.readouterr().err
    assert main(["predict", str(src), str(tmp_path / "o.jsonl"), "--model", str(trained_model), "--device",
                 "cuda:99"]) == 2
    assert "available devices" in capsys.readouterr().err
    assert main(["predict", str(src), str(tmp_path / "o4.jsonl"), "--model", str(trained_model), "--on-empty",
                 "error"]) == 0
    assert "deprecated: use --on-empty raise" in capsys.readouterr().err


def test_dotted_overrides_reach_the_config(tmp_path, monkeypatch):
    from newsclf import cli

    seen = {}
    monkeypatch.setattr("newsclf.trainer.train", lambda cfg, resume=False: seen.setdefault("cfg", cfg) and tmp_path)
    assert cli.main(["train", str(TINY_CONFIG), "--training.learning_rate", "1e-4", "--set",
                     "model.max_seq_length=32", f"--output.dir={tmp_path}"]) == 0
    cfg = seen["cfg"]
    assert cfg.training.learning_rate == 1e-4 and cfg.model.max_seq_length == 32 and cfg.output.dir == tmp_path
