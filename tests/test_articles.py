import pytest

from newsclf import Classifier
from newsclf.articles import article_rows, paragraph_rows
from newsclf.data import InputRow

ARTICLE = ("دمشق - وكالات\n"
           "قصفت الطائرات الحربية مواقع في ريف إدلب الجنوبي صباح اليوم وأسفر القصف عن سقوط قتلى.\n\n"
           "وأعلنت الأمم المتحدة وصول قافلة مساعدات إلى الغوطة الشرقية المحاصرة تحمل أغذية وأدوية.")


def test_paragraph_rows_number_paragraphs_and_carry_the_article_fields():
    rows = paragraph_rows(InputRow("a7", ARTICLE, 3, {"outlet": "bbc", "date": "2018-04-03"}))
    assert [r.id for r in rows] == ["a7-p000", "a7-p001"]
    assert [r.meta["paragraph_index"] for r in rows] == [0, 1]
    assert all(r.meta["article_id"] == "a7" and r.meta["outlet"] == "bbc" and r.line == 3 for r in rows)
    assert rows[0].text.startswith("دمشق - وكالات قصفت")  # the dateline (under 6 words) joins the next line


def test_an_article_without_text_keeps_one_empty_row():
    assert [(r.id, r.text) for r in paragraph_rows(InputRow("x", " \n \n", 1))] == [("x-p000", "")]


def test_article_rows_take_texts_or_mappings():
    rows = article_rows(["نص", {"id": "k", "text": "نص آخر", "outlet": "cnn"}])
    assert [(r.id, r.meta) for r in rows] == [("0", {}), ("k", {"outlet": "cnn"})]
    with pytest.raises(KeyError, match="article 0 has no 'text'"):
        article_rows([{"id": "k", "body": "..."}])


def test_classify_articles_labels_each_paragraph_like_classify(trained_model):
    clf = Classifier.from_pretrained(trained_model, device="cpu", backend="torch", precision="fp32")
    out = clf.classify_articles([{"id": "a1", "text": ARTICLE, "outlet": "bbc"}, {"id": "a2", "text": "   "}],
                                on_empty="none")
    assert [(p.article_id, p.paragraph_index) for p in out] == [("a1", 0), ("a1", 1), ("a2", 0)]
    alone = clf([p.text for p in out[:2]])
    for p, a in zip(out[:2], alone):
        assert p.prediction.topic_scores == pytest.approx(a.topic_scores, abs=1e-5)
    assert out[2].prediction.no_content and out[0].meta == {"outlet": "bbc"}
    assert out[1].to_dict()["id"] == "a1-p001"
    with pytest.raises(ValueError, match="index 1 has no visible characters"):
        clf.classify_articles([ARTICLE, ""])
