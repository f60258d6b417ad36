import json
import shutil

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
    assert "micro-F1" in out and (tmp_path / "eval" / "confusion_matrix.png").is_file()
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
