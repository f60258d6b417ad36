import numpy as np
import pytest

from newsclf import Classifier, Prediction, classify

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]


@pytest.fixture(scope="module")
def clf(trained_model):
    return Classifier.from_pretrained(trained_model, device="cpu")


def test_a_string_gives_one_prediction_and_a_list_gives_a_list(clf):
    one = clf(TEXTS[0])
    assert isinstance(one, Prediction)
    assert set(one.topic_scores) == {"military", "humanitarian", "diplomatic", "displacement"}
    assert one.stance in one.stance_scores and abs(sum(one.stance_scores.values()) - 1) < 1e-5
    assert all(one.topic_scores[t] >= th for t, th in zip(one.topic_scores, clf.thresholds) if t in one.topics)
    many = clf(TEXTS[:5])
    assert isinstance(many, list) and len(many) == 5


def test_results_come_back_in_input_order_whatever_the_batching(clf):
    texts = TEXTS[:12]
    batched = clf.predict_proba(texts, batch_size=4)
    one_by_one = np.stack([clf.predict_proba([t], batch_size=1)[0][0] for t in texts])
    assert np.allclose(batched[0], one_by_one, atol=1e-5)
    reversed_topics = clf.predict_proba(texts[::-1], batch_size=3)[0][::-1]
    assert np.allclose(batched[0], reversed_topics, atol=1e-5)


@pytest.mark.parametrize("texts, error, message", [
    (["نص", 3], TypeError, "text at index 1 must be str, got int"),
    (["نص", None], TypeError, "index 1 must be str, got NoneType"),
    (["نص", "  \n"], ValueError, "text at index 1 has no visible characters"),
    (["نص", "\u200f\xa0\u200b"], ValueError, "text at index 1 has no visible characters"),
    (["نص", "\ud800"], ValueError, "text at index 1 is not valid Unicode: a lone surrogate"),
    (42, TypeError, "texts must be a str or a list of str"),
])
def test_bad_input_names_index_and_type(clf, texts, error, message):
    with pytest.raises(error, match=message):
        clf(texts)


def test_empty_text_can_give_a_no_content_result(clf):
    out = clf(["", TEXTS[0]], on_empty="none")
    assert out[0].no_content and out[0].topics == [] and out[0].stance == "neutral"
    assert not out[1].no_content
    with pytest.raises(ValueError, match="on_empty"):
        clf(TEXTS[0], on_empty="skip")


def test_classify_loads_a_local_folder_once_and_caches_it(trained_model):
    first = classify(TEXTS[:2], model=trained_model, device="cpu")
    second = classify(TEXTS[1], model=str(trained_model), device="cpu")
    assert first[1] == second
    from newsclf.inference import _cached_classifier

    assert _cached_classifier.cache_info().hits >= 1


def test_save_pretrained_round_trips(clf, tmp_path):
    clf.save_pretrained(tmp_path)
    again = Classifier.from_pretrained(tmp_path, device="cpu")
    assert np.allclose(again.predict_proba(TEXTS[:3])[0], clf.predict_proba(TEXTS[:3])[0], atol=1e-6)
