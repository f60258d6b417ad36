import pytest

from newsclf import Classifier, classify
from newsclf.validation import check_batch_size, texts_to_run

from conftest import DATA, read_jsonl

TEXTS = [r["text"] for r in read_jsonl(DATA / "test.jsonl")]


@pytest.mark.parametrize("value, error", [(0, ValueError), (-1, ValueError), ("x", TypeError), (2.5, TypeError),
                                          (True, TypeError)])
def test_batch_size_must_be_a_positive_int(value, error):
    with pytest.raises(error, match="batch_size must be a positive int"):
        check_batch_size(value)


def test_every_argument_is_checked_at_the_boundary(trained_model):
    clf = Classifier.from_pretrained(trained_model, device="cpu")
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        clf(TEXTS[:2], batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be a positive int, got str 'x'"):
        classify(TEXTS[:2], model=clf, batch_size="x")
    with pytest.raises(ValueError, match=r"on_empty must be one of \('raise', 'none'\)"):
        clf(TEXTS[:2], on_empty="skip")
    with pytest.raises(ValueError, match="precision must be one of"):
        Classifier.from_pretrained(trained_model, precision="fp8")
    with pytest.raises(ValueError, match="backend must be one of"):
        Classifier.from_pretrained(trained_model, backend="tensorrt")


def test_invisible_only_texts_are_empty_and_lone_surrogates_are_named():
    assert texts_to_run(["نص", "\u200f\xa0", " \u200b\u2066"], on_empty="none") == [0]
    with pytest.raises(ValueError, match="index 2 has no visible characters"):
        texts_to_run(["نص", "a", "\u200f"])
    with pytest.raises(ValueError, match=r"index 1 is not valid Unicode: a lone surrogate '\\ud800' at position 2"):
        texts_to_run(["نص", "ab\ud800"])


def test_invisible_only_text_gets_a_no_content_result(trained_model):
    clf = Classifier.from_pretrained(trained_model, device="cpu")
    out = clf(["\u200f\xa0", TEXTS[0]], on_empty="none")
    assert out[0].no_content and out[0].topics == [] and not out[1].no_content
