import re
from pathlib import Path

import pytest

from newsclf.cli import main
from newsclf.labels import CUE_TAGS, STANCES, TOPICS, label_guide, stance_to_index, topics_to_vector, vector_to_topics

SHARED_GUIDE = Path(__file__).resolve().parents[2] / "shared" / "LABELS.md"


def test_labels_match_the_label_guide_shipped_in_the_package():
    text = label_guide()
    topic_order = re.search(r"## Topic — multi-label, order: (.*)", text).group(1)
    stance_order = re.search(r"## Stance — one label, order: (.*)", text).group(1)
    assert re.findall(r"`(\w+)`", topic_order) == list(TOPICS)
    assert re.findall(r"`(\w+)`", stance_order) == list(STANCES)


def test_topic_vectors_round_trip_in_label_order():
    assert topics_to_vector(["displacement", "military"]) == [1.0, 0.0, 0.0, 1.0]
    assert vector_to_topics([True, False, False, True]) == ["military", "displacement"]
    assert topics_to_vector([]) == [0.0] * 4


def test_cue_tags_are_none_the_framed_stances_and_attributed():
    assert CUE_TAGS == ("none", "pro_government", "pro_opposition", "attributed")
    assert set(CUE_TAGS[1:3]) == set(STANCES) - {"neutral"}


def test_unknown_labels_are_refused():
    with pytest.raises(ValueError, match="unknown topic 'sport'"):
        topics_to_vector(["sport"])
    with pytest.raises(ValueError, match="unknown stance 'pro_rebel'"):
        stance_to_index("pro_rebel")
    assert stance_to_index("neutral") == 2


def test_the_shipped_guide_is_the_shared_one_where_that_is_at_hand():
    if SHARED_GUIDE.exists():  # beside a developer's checkout; a plain clone has only the package's copy
        assert label_guide() == SHARED_GUIDE.read_text(encoding="utf-8")
    assert (Path(__file__).resolve().parents[1] / "docs" / "LABELS.md").read_text(encoding="utf-8") == label_guide()


def test_labels_command_prints_the_guide(capsys):
    assert main(["labels"]) == 0
    assert "## Stance — one label" in capsys.readouterr().out
