import numpy as np
import pytest

from newsclf import Classifier, Prediction, classify
from newsclf.inference import aggregate_windows, token_budget_batches

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


def test_long_paragraphs_are_read_whole_with_overlapping_windows(clf):
    long_text = " ".join(TEXTS[:6])
    windows, owner = clf.windows([long_text, TEXTS[0]])
    n_tokens = len(clf.tokenizer(long_text)["input_ids"])
    assert n_tokens > clf.config.max_seq_length and (owner == 0).sum() > 1
    assert all(len(w) <= clf.config.max_seq_length for w in windows)
    covered = set()  # every content token of the long text lies in some window
    for w in (w for w, o in zip(windows, owner) if o == 0):
        covered |= set(w)
    assert set(clf.tokenizer(long_text)["input_ids"]) <= covered
    topic, stance = clf.predict_proba([long_text])
    assert topic.shape == (1, 4) and abs(stance.sum() - 1) < 1e-5


def test_window_aggregation_takes_topic_max_and_weighted_stance_mean():
    topic, stance = aggregate_windows(np.array([[.1, .9], [.7, .2], [.3, .3]]), np.array([[1., 0], [0, 1], [.5, .5]]),
                                      np.array([0, 0, 1]), [30, 10, 5], 2)
    assert np.allclose(topic, [[.7, .9], [.3, .3]])
    assert stance[0].tolist() == pytest.approx([.75, .25])


def test_token_budget_batches_cover_every_index_once():
    lengths = [5, 50, 7, 64, 3, 64, 20]
    batches = token_budget_batches(lengths, max_tokens=128, max_batch=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * max(lengths[i] for i in b) <= 128 for b in batches)
    assert all(len(b) <= 3 for b in batches)


@pytest.mark.parametrize("texts, error, message", [
    (["نص", 3], TypeError, "text at index 1 must be str, got int"),
    (["نص", None], TypeError, "index 1 must be str, got NoneType"),
    (["نص", "  \n"], ValueError, "text at index 1 is empty"),
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
