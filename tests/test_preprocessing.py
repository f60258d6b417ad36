import pytest

from newsclf.preprocessing import (PreprocessingSpec, has_visible_text, normalize_arabic, preprocessor,
                                   split_paragraphs, strip_markup)


def test_normaliser_strips_diacritics_and_tatweel_and_spaces():
    assert normalize_arabic("  قَالَ   الجيـــشُ\tإنّ ") == "قال الجيش إن"
    assert normalize_arabic("أإآ ى ة") == "أإآ ى ة"  # letters are kept as written


def test_spec_resolves_the_config_choice_in_one_place():
    assert PreprocessingSpec.resolve("auto", "aubmindlab/bert-base-arabertv02") == PreprocessingSpec(
        "arabert", "bert-base-arabertv02")
    assert PreprocessingSpec.resolve("auto", "/models/e5").kind == "normalize"
    assert PreprocessingSpec.resolve("arabert", "/models/e5") == PreprocessingSpec("arabert", "bert-base-arabertv02")
    assert PreprocessingSpec.resolve("none", "x", strip_markup=False) == PreprocessingSpec("none", None, False)
    with pytest.raises(ValueError, match="unknown preprocessing kind"):
        PreprocessingSpec("stem")
    with pytest.raises(ValueError, match="model_name"):
        PreprocessingSpec("arabert")


def test_arabert_preprocessing_is_the_arabert_package():
    from arabert.preprocess import ArabertPreprocessor

    text = "قالَ الجيشُ: إنّ القوات (تقدمت) في إدلب."
    ours = preprocessor(PreprocessingSpec("arabert", "bert-base-arabertv02"))(text)
    assert ours == ArabertPreprocessor(model_name="bert-base-arabertv02").preprocess(text)
    assert "(" in ours and " ( " in ours  # v02 spaces out punctuation, no Farasa segmentation
    assert preprocessor(PreprocessingSpec("none"))(text) == text


def test_split_paragraphs_merges_short_lines_and_splits_long_ones():
    article = "عاجل\nدمشق - وكالات\n" + "قصفت الطائرات مواقع في ريف إدلب اليوم صباحا.\n\n" + "جملة طويلة جدا هنا. " * 60
    paragraphs = split_paragraphs(article, max_words=100)
    assert paragraphs[0].startswith("عاجل دمشق - وكالات قصفت")
    assert all(len(p.split()) <= 100 for p in paragraphs[1:])
    assert " ".join(" ".join(paragraphs).split()) == " ".join(article.split())  # nothing lost
    assert split_paragraphs("") == []
    with pytest.raises(TypeError):
        split_paragraphs(None)


def test_markup_is_stripped_and_entities_decoded_before_the_model_sees_text():
    clean = "قصفت الطائرات مدينة حلب & ريفها"
    wrapped = ('<div class="p"><p>قصفت <b>الطائرات</b> مدينة حلب &amp; ريفها</p>'
               "<script>var x = 1;</script><!-- ad --></div>")
    spec = PreprocessingSpec("normalize")
    assert preprocessor(spec)(wrapped) == preprocessor(spec)(clean) == clean
    assert strip_markup("a < b and c > d") == "a < b and c > d"  # not tags
    raw = PreprocessingSpec("none", strip_markup=False)
    assert preprocessor(raw)("<b>x</b>") == "<b>x</b>"


def test_visible_text_ignores_bidi_marks_zero_width_and_no_break_spaces():
    assert not has_visible_text("\u200f\xa0\u200b\u2066 \t")
    assert has_visible_text("\u200fنص")
