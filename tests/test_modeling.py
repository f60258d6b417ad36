import pytest
import torch
from transformers import AutoConfig, AutoModel, BertConfig

from newsclf.modeling import (NewsClfConfig, NewsClfModel, mean_pool, soft_binary_cross_entropy,
                              soft_cross_entropy, weight_soup)


def tiny_config(**kw):
    enc = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32).to_dict()
    return NewsClfConfig(encoder=enc, **kw)


def test_forward_gives_both_heads_and_a_weighted_loss():
    torch.manual_seed(0)
    model = NewsClfModel(tiny_config(topic_pos_weight=[2, 1, 1, 1], stance_class_weights=[1, 2, 1])).eval()
    ids = torch.randint(5, 50, (3, 7))
    labels = {"topic_labels": torch.tensor([[1., 0, 0, 0]] * 3), "stance_labels": torch.tensor([0, 1, 2])}
    out = model(ids, **labels)
    assert out.topic_logits.shape == (3, 4) and out.stance_logits.shape == (3, 3)
    model.config.stance_loss_weight = 0.0
    topic_only = model(ids, **labels).loss
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        out.topic_logits, labels["topic_labels"], pos_weight=torch.tensor([2., 1, 1, 1]))
    assert torch.allclose(topic_only, expected)
    assert out.loss > topic_only


def test_cue_head_adds_a_token_loss_over_known_tags_only():
    torch.manual_seed(0)
    assert NewsClfModel(tiny_config()).cue_head is None  # no cue loss, no third head
    model = NewsClfModel(tiny_config(cue_loss_weight=0.5, cue_class_weights=[1, 4, 2, 3])).eval()
    ids = torch.randint(5, 50, (2, 6))
    labels = {"topic_labels": torch.tensor([[1., 0, 0, 0]] * 2), "stance_labels": torch.tensor([0, 2])}
    cue = torch.tensor([[-100, 0, 1, 1, 0, -100], [-100] * 6])  # the second record has no cues
    base, out = model(ids, **labels), model(ids, **labels, cue_labels=cue)
    hidden = model.encoder(input_ids=ids).last_hidden_state
    expected = torch.nn.functional.cross_entropy(model.cue_head(hidden)[0, 1:5], cue[0, 1:5],
                                                 weight=torch.tensor([1., 4, 2, 3]))
    assert torch.allclose(out.loss, base.loss + 0.5 * expected, atol=1e-5)
    none_known = model(ids, **labels, cue_labels=torch.full((2, 6), -100))
    assert torch.allclose(none_known.loss, base.loss) and torch.isfinite(none_known.loss)


def test_soft_losses_equal_pytorchs_weighted_losses_on_labels():
    torch.manual_seed(0)
    logits, labels, weight = torch.randn(16, 3), torch.randint(0, 3, (16,)), torch.tensor([13.0, 4.0, 0.4])
    expected = torch.nn.functional.cross_entropy(logits, labels, weight=weight)
    assert torch.allclose(soft_cross_entropy(logits, labels, weight), expected)
    one_hot = torch.nn.functional.one_hot(labels, 3).float()
    assert torch.allclose(soft_cross_entropy(logits, one_hot, weight), expected)  # one-hot = the label itself
    assert torch.allclose(soft_cross_entropy(logits, labels, None), torch.nn.functional.cross_entropy(logits, labels))
    topic_logits, topic_labels = torch.randn(16, 4), torch.randint(0, 2, (16, 4)).float()
    pos_weight = torch.tensor([2.0, 1.0, 5.0, 10.0])
    assert torch.allclose(soft_binary_cross_entropy(topic_logits, topic_labels, pos_weight),
                          torch.nn.functional.binary_cross_entropy_with_logits(topic_logits, topic_labels,
                                                                               pos_weight=pos_weight))


def test_weighted_soft_losses_are_smallest_at_the_teachers_probabilities():
    """Class weights say how much a row counts, not what it should predict: the best logits for a soft
    target reproduce it (with per-class weighting they would favour the rare classes)."""
    target, weight = torch.tensor([[0.05, 0.15, 0.8]]), torch.tensor([19.0, 5.0, 0.4])
    logits = torch.zeros(1, 3, requires_grad=True)
    topic_target, pos_weight = torch.tensor([[0.3, 0.9]]), torch.tensor([10.0, 3.0])
    topic_logits = torch.zeros(1, 2, requires_grad=True)
    optimiser = torch.optim.LBFGS([logits, topic_logits], max_iter=200)

    def closure():
        optimiser.zero_grad()
        loss = (soft_cross_entropy(logits, target, weight)
                + soft_binary_cross_entropy(topic_logits, topic_target, pos_weight))
        loss.backward()
        return loss

    optimiser.step(closure)
    assert torch.allclose(torch.softmax(logits, -1), target, atol=1e-3)
    assert torch.allclose(torch.sigmoid(topic_logits), topic_target, atol=1e-3)


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).item() == 2.0


def test_save_and_load_keep_weights_labels_and_thresholds(tmp_path):
    model = NewsClfModel(tiny_config(topic_thresholds=[0.3, 0.4, 0.5, 0.6], base_model="x/y",
                                     preprocessing={"kind": "normalize", "model_name": None}))
    model.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path)  # registered with the Auto classes
    assert isinstance(loaded, NewsClfModel)
    assert loaded.config.topic_thresholds == [0.3, 0.4, 0.5, 0.6] and loaded.config.base_model == "x/y"
    assert loaded.config.topics == ["military", "humanitarian", "diplomatic", "displacement"]
    assert AutoConfig.from_pretrained(tmp_path).stances == ["pro_government", "pro_opposition", "neutral"]
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name


def test_from_encoder_keeps_pretrained_encoder_weights(tiny_bert):
    from transformers import BertModel

    model = NewsClfModel.from_encoder(str(tiny_bert), max_seq_length=64)
    reference = BertModel.from_pretrained(tiny_bert)
    assert torch.equal(model.encoder.embeddings.word_embeddings.weight, reference.embeddings.word_embeddings.weight)
    assert model.encoder.pooler is None and model.config.base_model == str(tiny_bert)


def test_weight_soup_averages_float_weights_and_resets_the_rules():
    torch.manual_seed(0)
    a = NewsClfModel(tiny_config(topic_thresholds=[0.3, 0.4, 0.5, 0.6], stance_prior_weights=[2.0, 1.0, 1.0]))
    b, c = NewsClfModel(tiny_config()), NewsClfModel(tiny_config())
    soup = weight_soup([a, b, c])
    for key, value in soup.state_dict().items():
        parts = [m.state_dict()[key] for m in (a, b, c)]
        expected = (parts[0] + parts[1] + parts[2]) / 3 if value.is_floating_point() else parts[0]
        assert torch.allclose(value, expected), key
    assert soup.config.topic_thresholds == [0.5] * 4 and soup.config.stance_prior_weights is None
    assert a.config.topic_thresholds == [0.3, 0.4, 0.5, 0.6]  # the ingredients are left as they were
    ids = torch.randint(5, 50, (2, 5))
    assert torch.allclose(weight_soup([a, a]).eval()(ids).topic_logits, a.eval()(ids).topic_logits, atol=1e-6)


def test_weight_soup_refuses_models_of_another_shape():
    wider = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64).to_dict()
    with pytest.raises(ValueError, match=r"model 2 does not match model 1 at .*intermediate.*\(shape \(64, 16\)"):
        weight_soup([NewsClfModel(tiny_config()), NewsClfModel(NewsClfConfig(encoder=wider))])
    with pytest.raises(ValueError, match="at least two models"):
        weight_soup([NewsClfModel(tiny_config())])
