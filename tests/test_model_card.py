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


def test_card_has_scores_beside_the_baseline_tries_and_limits():
    card = render_model_card(name="newsclf default", base_model="e5", base_licence="MIT", config_yaml="a: 1",
                             test_report=report(0), baseline_report=report(1),
                             tries=[{"name": "A", "change": "lr 1e-4", "topic_micro_f1": 0.8, "topic_macro_f1": 0.7,
                                     "stance_macro_f1": 0.6, "kept": True}])
    assert "| topic: military |" in card and "| stance: neutral |" in card
    assert "| topic micro-F1 |" in card and "baseline" in card
    assert "| A | lr 1e-4 | 0.800 | 0.700 | 0.600 | yes |" in card
    assert "not about the truth of the report" in card and "Expected calibration error" in card


def test_dev_scores_take_the_best_epoch(tmp_path):
    rows = [{"epoch": 1, "eval_score": 0.5, "eval_topic_micro_f1": 0.6, "eval_topic_macro_f1": 0.5,
             "eval_stance_macro_f1": 0.5},
            {"epoch": 2, "eval_score": 0.7, "eval_topic_micro_f1": 0.8, "eval_topic_macro_f1": 0.7,
             "eval_stance_macro_f1": 0.7}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert dev_scores(tmp_path) == {"topic_micro_f1": 0.8, "topic_macro_f1": 0.7, "stance_macro_f1": 0.7, "epoch": 2}
