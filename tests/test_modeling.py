import torch
from transformers import AutoConfig, AutoModel, BertConfig

from newsclf.modeling import NewsClfConfig, NewsClfModel, mean_pool, soft_cross_entropy


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


def test_soft_cross_entropy_is_the_weighted_mean_for_labels_and_takes_distributions():
    torch.manual_seed(0)
    logits, labels, weight = torch.randn(16, 3), torch.randint(0, 3, (16,)), torch.tensor([13.0, 4.0, 0.4])
    expected = torch.nn.functional.cross_entropy(logits, labels, weight=weight)
    assert torch.allclose(soft_cross_entropy(logits, labels, weight), expected)
    one_hot = torch.nn.functional.one_hot(labels, 3).float()
    assert torch.allclose(soft_cross_entropy(logits, one_hot, weight), expected)  # one-hot = the label itself
    target = torch.tensor([[0.2, 0.3, 0.5]])
    by_hand = -(target * weight * torch.log_softmax(logits[:1], -1)).sum() / (target * weight).sum()
    assert torch.allclose(soft_cross_entropy(logits[:1], target, weight), by_hand)
    assert torch.allclose(soft_cross_entropy(logits, labels, None), torch.nn.functional.cross_entropy(logits, labels))


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
