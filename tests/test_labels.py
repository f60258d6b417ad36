import re
from pathlib import Path

import pytest

from newsclf.labels import STANCES, TOPICS, stance_to_index, topics_to_vector, vector_to_topics


def test_labels_match_the_label_guide():
    guide = (Path(__file__).resolve().parents[2] / "shared" / "LABELS.md")
    if not guide.exists():
        pytest.skip("../shared/LABELS.md is not beside this checkout")
    text = guide.read_text(encoding="utf-8")
    topic_order = re.search(r"## Topic — multi-label, order: (.*)", text).group(1)
    stance_order = re.search(r"## Stance — one label, order: (.*)", text).group(1)
    assert re.findall(r"`(\w+)`", topic_order) == list(TOPICS)
    assert re.findall(r"`(\w+)`", stance_order) == list(STANCES)


def test_topic_vectors_round_trip_in_label_order():
    assert topics_to_vector(["displacement", "military"]) == [1.0, 0.0, 0.0, 1.0]
    assert vector_to_topics([True, False, False, True]) == ["military", "displacement"]
    assert topics_to_vector([]) == [0.0] * 4


def test_unknown_labels_are_refused():
    with pytest.raises(ValueError, match="unknown topic 'sport'"):
        topics_to_vector(["sport"])
    with pytest.raises(ValueError, match="unknown stance 'pro_rebel'"):
        stance_to_index("pro_rebel")
    assert stance_to_index("neutral") == 2
