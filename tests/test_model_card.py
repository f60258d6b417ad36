import json

from newsclf.model_card import dev_scores, render_model_card
from newsclf.metrics import score_report

import numpy as np


def report(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, (30, 4))
    p = np.clip(y * 0.6 + rng.random((30, 4)) * 0.5, 0, 1)
    s = rng.integers(0, 3, 30)
    return score_report(y, p, [0.5] * 4, s, np.eye(3)[s] * 0.7 + 0.1)


EPOCHS = [{"epoch": 1, "step": 10, "train_loss": 1.2, "eval_score": 0.5, "eval_topic_micro_f1": 0.6,
           "eval_topic_macro_f1": 0.5, "eval_stance_macro_f1": 0.4}]


def test_card_has_config_dev_scores_thresholds_and_test_scores_beside_the_baseline():
    card = render_model_card(name="newsclf default", base_model="e5", config_yaml="a: 1", thresholds=[.4, .5, .6, .7],
                             epochs=EPOCHS, test_report=report(0), baseline_report=report(1),
                             baseline_name="TF-IDF", intro="Made for analysts.", extra="## Size\n\n40 MB",
                             stance_weights=[2.0, 1.5, 1.0])
    assert "| topic: military |" in card and "| stance: neutral |" in card
    assert "| topic micro-F1 |" in card and "| summary | this model | TF-IDF | difference |" in card
    assert "| 1 | 10 | 1.200 | 0.600 | 0.500 | 0.400 | 0.500 |" in card
    assert "military 0.40, humanitarian 0.50, diplomatic 0.60, displacement 0.70" in card
    assert "stance prior weights pro_government 2, pro_opposition 1.5, neutral 1" in card
    assert "```yaml\na: 1\n```" in card and "Made for analysts." in card and "## Size" in card
    assert "Expected calibration error" in card and "| | pro_government | pro_opposition | neutral |" in card
    assert "95 % intervals" not in card  # this report has none


def test_card_gives_the_test_scores_intervals():
    intervals = {"confidence": 0.95, "resamples": 1000, "documents": 25, "topic_micro_f1": [0.61, 0.83],
                 "topic_macro_f1": [0.55, 0.8], "stance_macro_f1": [0.4, 0.7]}
    card = render_model_card(name="m", base_model="e5", config_yaml="a: 1", thresholds=[.5] * 4, epochs=EPOCHS,
                             test_report=report(0) | {"intervals": intervals})
    assert ("95 % intervals (1000 bootstrap draws of the 25 documents, whole documents at a time): topic micro-F1 "
            "[0.610, 0.830], topic macro-F1 [0.550, 0.800], stance macro-F1 [0.400, 0.700]") in card


def test_card_without_a_test_split_has_no_test_section():
    card = render_model_card(name="m", base_model="e5", config_yaml="a: 1", thresholds=[.5] * 4, epochs=EPOCHS)
    assert "Test-split" not in card and "## Dev scores during training" in card


def test_dev_scores_take_the_best_epoch(tmp_path):
    rows = [{"epoch": 1, "eval_score": 0.5, "eval_topic_micro_f1": 0.6, "eval_topic_macro_f1": 0.5,
             "eval_stance_macro_f1": 0.5},
            {"epoch": 2, "eval_score": 0.7, "eval_topic_micro_f1": 0.8, "eval_topic_macro_f1": 0.7,
             "eval_stance_macro_f1": 0.7}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert dev_scores(tmp_path) == {"topic_micro_f1": 0.8, "topic_macro_f1": 0.7, "stance_macro_f1": 0.7, "epoch": 2}
