import numpy as np
import pytest
from transformers import AutoTokenizer

from newsclf.batching import (max_over_windows, mean_over_windows, pad_windows, padded_width, prefetch,
                              token_budget_batches, token_windows)

from conftest import DATA, TINY_BERT, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]


def test_long_paragraphs_are_read_whole_with_overlapping_windows():
    tokenizer = AutoTokenizer.from_pretrained(TINY_BERT)
    long_text = " ".join(TEXTS[:6])
    windows, owner = token_windows(tokenizer, [long_text, TEXTS[0]], max_seq_length=64, stride=16)
    n_tokens = len(tokenizer(long_text)["input_ids"])
    assert n_tokens > 64 and (owner == 0).sum() > 1 and owner[-1] == 1
    assert all(len(w) <= 64 for w in windows)
    covered = set()  # every token of the long text lies in some window
    for w in (w for w, o in zip(windows, owner) if o == 0):
        covered |= set(w.tolist())
    assert set(tokenizer(long_text)["input_ids"]) <= covered


def test_window_aggregation_takes_topic_max_and_weighted_means():
    owner, lengths = np.array([0, 0, 1]), [30, 10, 5]
    topic = max_over_windows(np.array([[.1, .9], [.7, .2], [.3, .3]]), owner, 2)
    stance = mean_over_windows(np.array([[1., 0], [0, 1], [.5, .5]]), owner, lengths, 2)
    assert np.allclose(topic, [[.7, .9], [.3, .3]])
    assert stance[0].tolist() == pytest.approx([.75, .25]) and stance[1].tolist() == pytest.approx([.5, .5])


def test_token_budget_batches_cover_every_index_once():
    lengths = [5, 50, 7, 64, 3, 64, 20]
    batches = token_budget_batches(lengths, max_tokens=128, max_batch=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * padded_width(max(lengths[i] for i in b)) <= 128 for b in batches)
    assert all(len(b) <= 3 for b in batches)


def test_a_batch_holds_one_padded_width_so_a_window_always_runs_at_the_same_width():
    lengths = [5, 16, 17, 31, 32, 33, 3, 48]
    batches = token_budget_batches(lengths, max_tokens=10_000, max_batch=64)
    assert sorted(sorted(b) for b in batches) == [[0, 1, 6], [2, 3, 4], [5, 7]]
    assert [padded_width(n) for n in (1, 16, 17, 256)] == [16, 16, 32, 256]


def test_pad_windows_right_pads_with_a_mask_to_a_multiple_of_16():
    ids, mask = pad_windows([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7] + [0] * 13, [8] + [0] * 15]
    assert mask.tolist() == [[1, 1, 1] + [0] * 13, [1] + [0] * 15]
    assert pad_windows([list(range(1, 17))], pad_id=0)[0].shape == (1, 16)
    assert pad_windows([list(range(1, 18))], pad_id=0)[0].shape == (1, 32)


def test_prefetch_keeps_order_and_reraises_in_the_consumer():
    assert list(prefetch(iter(range(10)), depth=2)) == list(range(10))

    def broken():
        yield 1
        raise RuntimeError("tokenizer failed")

    with pytest.raises(RuntimeError, match="tokenizer failed"):
        list(prefetch(broken()))
