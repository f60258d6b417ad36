import pytest

from newsclf.preprocessing import PreprocessingSpec, normalize_arabic, preprocessor, split_paragraphs


def test_normaliser_strips_diacritics_and_tatweel_and_spaces():
    assert normalize_arabic("  قَالَ   الجيـــشُ\tإنّ ") == "قال الجيش إن"
    assert normalize_arabic("أإآ ى ة") == "أإآ ى ة"  # letters are kept as written


def test_spec_for_checkpoint_picks_arabert_for_arabert_models():
    assert PreprocessingSpec.for_checkpoint("aubmindlab/bert-base-arabertv02") == PreprocessingSpec(
        "arabert", "bert-base-arabertv02")
    assert PreprocessingSpec.for_checkpoint("/models/e5").kind == "normalize"
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
