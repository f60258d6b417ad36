import numpy as np
import pytest

from newsclf.metrics import (expected_calibration_error, headline_scores, reweight, score_intervals, score_report,
                             stance_metrics, topic_metrics, tune_class_weights, tune_thresholds)


def test_topic_metrics_on_a_hand_computed_case():
    y = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1]])
    p = np.array([[.9, .1, .2, .1], [.6, .3, .1, .1], [.2, .1, .1, .1], [.1, .1, .8, .7]])
    m = topic_metrics(y, p, [0.5] * 4)
    assert m["per_label"]["military"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "threshold": 0.5}
    assert m["per_label"]["humanitarian"]["recall"] == 0.0
    assert m["micro_f1"] == pytest.approx(2 * 4 / (2 * 4 + 0 + 1))  # tp 4, fp 0, fn 1
    assert m["macro_f1"] == pytest.approx(0.75)
    assert m["subset_accuracy"] == 0.75 and m["none_f1"] == 1.0


def test_headline_scores_are_the_reports_three_target_scores():
    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0]])
    p = np.array([[.9, .1, .1, .1], [.9, .1, .1, .1]])
    report = score_report(y, p, [0.5] * 4, np.array([0, 2]), np.array([[.8, .1, .1], [.1, .1, .8]]))
    assert headline_scores(report) == {"topic_micro_f1": report["topics"]["micro_f1"],
                                       "topic_macro_f1": report["topics"]["macro_f1"],
                                       "stance_macro_f1": report["stance"]["macro_f1"]}
    assert headline_scores(report)["topic_micro_f1"] == pytest.approx(0.5)  # 1 TP, 1 FP, 1 FN: 2 / (2 + 1 + 1)


def test_stance_metrics_and_confusion_matrix():
    y = np.array([0, 1, 2, 2])
    p = np.array([[.8, .1, .1], [.2, .3, .5], [.1, .1, .8], [.3, .3, .4]])
    m = stance_metrics(y, p)
    assert m["accuracy"] == 0.75
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    assert m["per_label"]["pro_opposition"]["f1"] == 0.0


def test_ece_is_zero_when_calibrated_and_large_when_not():
    conf = np.array([0.8] * 10)
    assert expected_calibration_error(conf, np.array([1] * 8 + [0] * 2)) == pytest.approx(0.0)
    assert expected_calibration_error(conf, np.zeros(10)) == pytest.approx(0.8)


def test_thresholds_are_tuned_per_topic():
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    p = np.array([[.3, .9], [.35, .2], [.1, .95], [.05, .8]])
    th = tune_thresholds(y, p)
    assert 0.1 < th[0] <= 0.3 and 0.9 < th[1] <= 0.95
    report = score_report(y[:, :1].repeat(4, 1), p[:, :1].repeat(4, 1), [th[0]] * 4, np.array([0, 1, 2, 2]),
                          np.eye(3)[[0, 1, 2, 2]])
    assert report["score"] == pytest.approx((1.0 + 1.0) / 2)


def test_stance_prior_weights_recover_a_shifted_decision_rule():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    probs = np.eye(3)[y] * 0.5 + rng.random((300, 3)) * 0.3
    probs[:, 2] += 0.35  # a head that over-predicts the last class
    probs /= probs.sum(1, keepdims=True)
    weights = tune_class_weights(y, probs)
    assert weights[2] == 1.0 and min(weights[:2]) > 1.0
    assert stance_metrics(y, reweight(probs, weights))["macro_f1"] > stance_metrics(y, probs)["macro_f1"]
    assert np.allclose(reweight(probs, weights).sum(1), 1.0, atol=1e-5)
    assert tune_class_weights(y, np.eye(3)[y]) == [1.0, 1.0, 1.0]  # already right: no shift


def _random_predictions(n: int, seed: int):
    """Labels and a fair model's noisy probabilities: topic_true, topic_probs, stance_true, stance_probs."""
    rng = np.random.default_rng(seed)
    topic_true = rng.random((n, 4)) < 0.3
    topic_probs = topic_true * 0.35 + rng.random((n, 4)) * 0.6
    stance_true = rng.integers(0, 3, n)
    stance_probs = rng.random((n, 3)) + np.eye(3)[stance_true] * 0.8
    return topic_true.astype(int), topic_probs, stance_true, stance_probs / stance_probs.sum(1, keepdims=True)


def test_score_intervals_hold_the_score_and_repeat_with_the_seed():
    tt, tp, st, sp = _random_predictions(300, 0)
    point = headline_scores(score_report(tt, tp, [0.5] * 4, st, sp))
    intervals = score_intervals(tt, tp, [0.5] * 4, st, sp, n_resamples=400, seed=1)
    for key, (low, high) in intervals.items():
        assert low < point[key] < high and high - low < 0.25
    assert score_intervals(tt, tp, [0.5] * 4, st, sp, n_resamples=400, seed=1) == intervals
    assert score_intervals(tt, tp, [0.5] * 4, st, sp, n_resamples=400, seed=2) != intervals


def test_score_intervals_resample_whole_groups():
    # every document twice over: drawn as documents, the copies move together and the ranges are the singles'
    tt, tp, st, sp = _random_predictions(200, 3)
    single = score_intervals(tt, tp, [0.5] * 4, st, sp, n_resamples=300)
    doubled = [np.concatenate([a, a]) for a in (tt, tp, st, sp)]
    documents = np.concatenate([np.arange(200), np.arange(200)])
    as_documents = score_intervals(doubled[0], doubled[1], [0.5] * 4, doubled[2], doubled[3], groups=documents,
                                   n_resamples=300)
    as_paragraphs = score_intervals(doubled[0], doubled[1], [0.5] * 4, doubled[2], doubled[3], n_resamples=300)
    for key in single:
        assert as_documents[key] == pytest.approx(single[key])
        assert as_paragraphs[key][1] - as_paragraphs[key][0] < single[key][1] - single[key][0]  # falsely sure


def test_paired_intervals_of_a_model_against_itself_and_a_worse_one():
    tt, tp, st, sp = _random_predictions(300, 4)
    assert all(v == [0.0, 0.0] for v in score_intervals(tt, tp, [0.5] * 4, st, sp, baseline=(tp, [0.5] * 4, sp),
                                                        n_resamples=200).values())
    rng = np.random.default_rng(5)
    worse = (np.clip(tp + rng.normal(0, 0.4, tp.shape), 0, 1), [0.5] * 4, sp[rng.permutation(len(sp))])
    difference = score_intervals(tt, tp, [0.5] * 4, st, sp, baseline=worse, n_resamples=300)
    assert all(low > 0 for low, _ in difference.values())


def test_a_perfect_model_has_the_one_point_interval():
    tt, _, st, _ = _random_predictions(50, 6)
    perfect = score_intervals(tt, tt.astype(float), [0.5] * 4, st, np.eye(3)[st], n_resamples=50)
    assert all(v == [1.0, 1.0] for v in perfect.values())


def test_weighted_counts_score_as_sklearn_does():
    # the bootstrap scores resamples from weighted counts; with every weight 1 that is score_report's F1
    from newsclf.metrics import _decisions, _weighted_headline
    tt, tp, st, sp = _random_predictions(120, 7)
    tt[:, 3] = 0  # a topic never true: F1 0, as zero_division=0 makes it
    topic_pred, stance_pred = _decisions(tp, [0.5] * 4, sp)
    ours = _weighted_headline(np.ones((1, 120)), tt.astype(bool), topic_pred, np.eye(3, dtype=bool)[st], stance_pred)
    expected = headline_scores(score_report(tt, tp, [0.5] * 4, st, sp))
    assert {k: float(v[0]) for k, v in ours.items()} == pytest.approx(expected)
