import json

import numpy as np
import pytest

from newsclf import Classifier
from newsclf.cli import main
from newsclf.suggest import MIN_RANDOM_SHARE, select, share_counts, uncertainty, validate_mix

from conftest import DATA, read_jsonl


def synthetic(n=400, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    topic = rng.random((n, 4)).astype(np.float32)
    stance = rng.dirichlet([1, 1, 3], n).astype(np.float32)
    vectors = rng.normal(size=(n, dim)).astype(np.float32) + 5.0  # a common direction, as in e5
    return topic, stance, vectors


def test_share_counts_honour_the_mix_and_sum_to_n():
    mix = validate_mix({"random": 0.25, "rare": 0.25, "uncertain": 0.3, "diverse": 0.2})
    for n in (1, 7, 50, 101, 7950):
        counts = share_counts(n, mix)
        assert sum(counts.values()) == n
        assert counts["random"] >= MIN_RANDOM_SHARE * n
        for share, fraction in mix.items():
            assert abs(counts[share] - fraction * n) <= 1


def test_bad_mixes_are_refused_naming_the_problem():
    with pytest.raises(ValueError, match="at least 0.2"):
        validate_mix({"random": 0.1, "rare": 0.9})
    with pytest.raises(ValueError, match="sum to 1"):
        validate_mix({"random": 0.5, "rare": 0.6})
    with pytest.raises(ValueError, match="unknown share"):
        validate_mix({"random": 0.5, "rares": 0.5})


def test_selection_follows_the_mix_is_deterministic_and_spreads_over_documents():
    topic, stance, vectors = synthetic()
    groups = [i // 5 for i in range(len(topic))]
    picks = select(topic, stance, vectors, [0.5] * 4, 100, groups=groups, seed=7, max_per_doc=2)
    assert len(picks) == 100 and len({p.index for p in picks}) == 100
    shares = {s: sum(p.share == s for p in picks) for s in ("random", "rare", "uncertain", "diverse")}
    assert shares == {"random": 25, "rare": 25, "uncertain": 30, "diverse": 20}
    per_doc = np.bincount([groups[p.index] for p in picks])
    assert per_doc.max() <= 2
    assert picks == select(topic, stance, vectors, [0.5] * 4, 100, groups=groups, seed=7, max_per_doc=2)
    assert picks != select(topic, stance, vectors, [0.5] * 4, 100, groups=groups, seed=8, max_per_doc=2)


def test_rare_share_takes_the_likeliest_rare_class_candidates_in_turn():
    topic, stance, vectors = synthetic()
    picks = select(topic, stance, vectors, [0.5] * 4, 40, mix={"random": 0.25, "rare": 0.75}, seed=1)
    rare = [p.index for p in picks if p.share == "rare"]
    best_gov = int(np.argmax(stance[:, 0]))
    best_opp = int(np.argmax(stance[:, 1]))
    best_disp = int(np.argmax(topic[:, 3]))
    assert {best_gov, best_opp, best_disp} <= set(rare) | {p.index for p in picks if p.share == "random"}


def test_near_duplicates_are_never_both_picked():
    topic, stance, vectors = synthetic(n=200)
    vectors[100:] = vectors[:100] + 1e-4  # every row has a twin
    picks = select(topic, stance, vectors, [0.5] * 4, 90, seed=3)
    chosen = {p.index % 100 for p in picks}
    assert len(chosen) == len(picks)


def test_uncertainty_is_highest_at_the_threshold_and_for_flat_stance():
    topic = np.array([[0.3, 0.01, 0.01, 0.01], [0.9, 0.01, 0.01, 0.01]])
    stance = np.array([[0.98, 0.01, 0.01], [1 / 3, 1 / 3, 1 / 3]])
    u = uncertainty(topic, [0.3, 0.5, 0.5, 0.5], stance)
    assert u[0] == pytest.approx(1.0) and u[1] == pytest.approx(1.0)
    assert uncertainty(topic[:1], [0.9, 0.5, 0.5, 0.5], stance[:1])[0] < 0.5


def test_embed_gives_the_pooled_vectors_in_input_order(trained_model):
    clf = Classifier.from_pretrained(trained_model, device="cpu", precision="fp32")
    texts = [r["text"] for r in read_jsonl(DATA / "dev.jsonl")][:6]
    vectors = clf.embed(texts)
    assert vectors.shape == (6, clf.model.config.hidden_size)
    np.testing.assert_allclose(clf.embed(texts[::-1])[::-1], vectors, atol=1e-5)
    topic, _, again = clf.encode(texts)
    np.testing.assert_allclose(again, vectors, atol=1e-6)
    np.testing.assert_allclose(topic, clf.predict_proba(texts)[0], atol=1e-6)


def test_suggest_command_excludes_labelled_ids_and_is_reproducible(trained_model, tmp_path, capsys):
    pool = tmp_path / "pool.jsonl"
    rows = [r for split in ("train", "dev", "test") for r in read_jsonl(DATA / f"{split}.jsonl")]
    with open(pool, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "text": r["text"], "doc_id": r.get("doc_id", r["id"]),
                                "outlet": r.get("outlet")}, ensure_ascii=False) + "\n")
    args = ["suggest", str(pool), None, "-n", "20", "--model", str(trained_model), "--exclude",
            str(DATA / "dev.jsonl"), "--seed", "5", "--precision", "fp32"]
    for name in ("a.jsonl", "b.jsonl"):
        args[2] = str(tmp_path / name)
        assert main(args) == 0
    a, b = read_jsonl(tmp_path / "a.jsonl"), read_jsonl(tmp_path / "b.jsonl")
    assert a == b and len(a) == 20
    dev_ids = {r["id"] for r in read_jsonl(DATA / "dev.jsonl")}
    assert not dev_ids & {r["id"] for r in a}
    assert sum(r["suggest_share"] == "random" for r in a) >= 4
    assert all({"id", "text", "doc_id", "outlet", "suggest_share", "suggest_score"} <= set(r) for r in a)
    summary = json.loads(capsys.readouterr().out.splitlines()[-2])
    assert summary["excluded"] == len(dev_ids) and summary["written"] == 20
