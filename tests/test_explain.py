import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from newsclf import Classifier
from newsclf.cli import main
from newsclf.explain import (Explanation, aggregate_words, comprehensiveness, delete_words, explain,
                             explanation_html, word_colour, word_index, words_to_delete)
from newsclf.labels import STANCES, TOPICS

from conftest import DATA, read_jsonl


@pytest.fixture(scope="module")
def clf(trained_model):
    return Classifier.from_pretrained(trained_model, device="cpu", backend="torch", precision="fp32")


@pytest.fixture(scope="module")
def texts():
    return [r["text"] for r in read_jsonl(DATA / "test.jsonl")[:4]]


def test_one_score_per_word_for_the_predicted_stance(clf, texts):
    explanations = clf.explain(texts, n_steps=8)
    predictions = clf(texts)
    _, stance = clf.predict_proba(texts)
    for text, e, pred, probs in zip(texts, explanations, predictions, stance):
        assert e.text == text and e.target == pred.stance
        assert len(e.words) == len(e.scores) == len(text.split()) and " ".join(e.words) == " ".join(text.split())
        assert e.probability == pytest.approx(probs[STANCES.index(e.target)], abs=1e-5)  # prior shift included
    single = clf.explain(texts[0], n_steps=8)
    assert isinstance(single, Explanation) and single.scores == pytest.approx(explanations[0].scores, abs=1e-6)


def test_scores_add_up_to_the_probability_above_the_all_pad_baseline(clf, texts):
    e = explain(clf, texts[0], "military", n_steps=128)
    assert abs(e.delta) < 2e-3 and sum(e.scores) == pytest.approx(e.probability - e.baseline_probability, abs=2e-3)
    # the baseline by hand: every non-special token replaced by the pad token, topic probability by sigmoid
    tok = clf.tokenizer
    ids = tok(clf.preprocess(texts[0]), truncation=True, max_length=clf.config.max_seq_length)["input_ids"]
    base = [i if i in tok.all_special_ids else tok.pad_token_id for i in ids]
    with torch.no_grad():
        logits = clf.model(input_ids=torch.tensor([base])).topic_logits
    assert e.baseline_probability == pytest.approx(torch.sigmoid(logits)[0, 0].item(), abs=1e-5)
    assert e.probability == pytest.approx(clf.predict_proba(texts[:1])[0][0, 0], abs=1e-5)


def test_a_long_paragraph_is_explained_over_its_windows_as_inference_combines_them(clf, texts):
    long = " ".join(texts)
    assert len(clf.tokenizer(clf.preprocess(long))["input_ids"]) > 2 * clf.config.max_seq_length
    topic, stance = clf.predict_proba([long])
    for target, expected in (("pro_opposition", stance[0, 1]), ("topic", topic[0].max())):
        e = explain(clf, long, target, n_steps=64)
        assert len(e.scores) == len(long.split()) and e.probability == pytest.approx(expected, abs=1e-5)
        # every token's attribution reaches a word (both windows' copies of the overlap): captum's delta is
        # sum(attributions) - (f(text) - f(baseline))
        assert sum(e.scores) - (e.probability - e.baseline_probability) == pytest.approx(e.delta, abs=1e-5)
        assert abs(e.delta) < 0.01
    assert e.target == TOPICS[int(topic[0].argmax())]


def test_targets_are_checked_and_need_the_torch_backend(clf, texts):
    with pytest.raises(ValueError, match=r"target must be None or one of \['stance', 'topic', 'pro_government'"):
        explain(clf, texts[0], "sport")
    with pytest.raises(ValueError, match="text at index 1 has no visible characters"):
        explain(clf, [texts[0], " \u200f "])
    onnx = SimpleNamespace(model=None, backend="onnx")
    with pytest.raises(ValueError, match="backend='torch'"):
        explain(onnx, texts[0])


def test_sub_word_pieces_are_summed_into_words():
    # "ab cd": [CLS] a b cd [SEP], offsets as a fast tokenizer gives them: a piece with its leading space
    owners = word_index("ab cd", [(0, 0), (0, 1), (1, 2), (2, 5), (0, 0)])
    assert owners == [-1, 0, 0, 1, -1]
    # SentencePiece's lone "▁" covers only the space before a word: it counts for that word
    assert word_index("ab  cd ", [(0, 0), (0, 2), (2, 3), (3, 4), (4, 6), (6, 7), (0, 0)]) == [-1, 0, 1, 1, 1, -1, -1]
    assert aggregate_words(np.array([[5.0, 1.0, 2.0, 4.0, 7.0, 99.0]]), [owners], 2) == [3.0, 4.0]  # 99: padding
    # two overlapping windows: word 1 is in both, and gets both windows' scores
    windows = np.array([[0.0, 1.0, 2.0, 0.0], [0.0, 8.0, 16.0, 0.0]])
    assert aggregate_words(windows, [[-1, 0, 1, -1], [-1, 1, 2, -1]], 3) == [1.0, 10.0, 16.0]


def test_a_real_tokenizer_splits_words_into_pieces_that_map_back(clf):
    text = clf.preprocess(read_jsonl(DATA / "test.jsonl")[0]["text"])
    enc = clf.tokenizer(text, return_offsets_mapping=True)
    owners = word_index(text, enc["offset_mapping"])
    assert len(owners) > len(text.split())  # some words have several pieces
    assert sorted(set(owners) - {-1}) == list(range(len(text.split())))
    assert all(a <= b for a, b in zip(owners[1:-1], owners[2:-1]))  # pieces in word order


def test_the_page_is_self_contained_right_to_left_and_shades_each_word():
    e = Explanation("قصفت <الطائرات> حلب", "military", 0.9, 0.2, ["قصفت", "<الطائرات>", "حلب"], [0.5, -0.25, 0.0],
                    -0.05)
    page = explanation_html([e])
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert not re.search(r"<script|<link|<img|src=|url\(|https?:", page)
    assert '<p class="text" dir="rtl" lang="ar">' in page and '"Noto Naskh Arabic", "Noto Sans Arabic"' in page
    assert ('<span class="w" style="background: rgba(33, 102, 172, 0.700)" title="+0.5000">قصفت</span>' in page)
    assert ('<span class="w" style="background: rgba(202, 0, 32, 0.350)" title="-0.2500">&lt;الطائرات&gt;</span>'
            in page)
    assert "military" in page and "probability 0.90" in page and "raises" in page and "lowers" in page
    assert word_colour(-1.0) == "rgba(202, 0, 32, 0.700)" and word_colour(0.0) == "rgba(33, 102, 172, 0.000)"


def test_comprehensiveness_deletes_the_top_and_random_words_and_measures_the_drop(clf):
    words = "قصفت الطائرات مدينة حلب اليوم".split()
    fake = Explanation(" ".join(words), "neutral", 0.0, 0.0, words, [0.1, 0.9, -0.5, 0.3, 0.0], 0.0)
    result = comprehensiveness(clf, [fake], k=2, seed=7, repeats=2)
    row = result["per_text"][0]
    assert row["top_k"] == [1, 3]
    rng = np.random.default_rng(7)
    assert row["random_k"] == [sorted(rng.choice(5, size=2, replace=False).tolist()) for _ in range(2)]
    _, stance = clf.predict_proba([" ".join(words), "قصفت مدينة اليوم", *(delete_words(words, r)
                                                                          for r in row["random_k"])])
    assert row["probability"] == pytest.approx(stance[0, 2], abs=1e-6)
    assert row["top_k_drop"] == pytest.approx(stance[0, 2] - stance[1, 2], abs=1e-6)
    assert result["random_k_drop"] == pytest.approx(stance[0, 2] - (stance[2, 2] + stance[3, 2]) / 2, abs=1e-6)


def test_comprehensiveness_explains_texts_itself(clf, texts):
    result = comprehensiveness(clf, texts, k=0.1, target="topic", n_steps=8)
    assert result["n_texts"] == len(texts) and result["k"] == 0.1
    for text, row in zip(texts, result["per_text"]):
        n = math.ceil(0.1 * len(text.split()))
        assert row["target"] in TOPICS and len(row["top_k"]) == len(row["random_k"][0]) == n
        assert -1 <= row["top_k_drop"] <= 1 and -1 <= row["random_k_drop"] <= 1
    assert result["top_k_drop"] == pytest.approx(np.mean([r["top_k_drop"] for r in result["per_text"]]))


def test_how_many_words_to_delete():
    assert words_to_delete(3, 10) == 3 and words_to_delete(3, 2) == 1 and words_to_delete(5, 1) == 0
    assert words_to_delete(0.1, 25) == 3 and words_to_delete(0.5, 3) == 2
    assert delete_words(["a", "b", "c", "d"], [0, 2]) == "b d"
    for bad in (0, 1.0, -2, True, "3"):
        with pytest.raises(ValueError, match="k must be a positive int"):
            words_to_delete(bad, 10)


def test_explain_from_the_command_line(trained_model, texts, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"p{i}", "text": t}, ensure_ascii=False) + "\n"
                           for i, t in enumerate(texts[:2])), encoding="utf-8")
    out, page = tmp_path / "out.jsonl", tmp_path / "page.html"
    assert main(["explain", str(src), str(out), "--model", str(trained_model), "--target", "military",
                 "--html", str(page), "--steps", "8"]) == 0
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["p0", "p1"] and all(r["target"] == "military" for r in rows)
    assert all(len(r["words"]) == len(r["scores"]) == len(t.split()) for r, t in zip(rows, texts))
    assert page.read_text(encoding="utf-8").count('<p class="text" dir="rtl" lang="ar">') == 2
    with pytest.raises(SystemExit):
        main(["explain", str(src), str(out), "--target", "sport"])
    assert "invalid choice: 'sport'" in capsys.readouterr().err
