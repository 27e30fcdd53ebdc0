"""The reasoning models (models.py, relational_layers.py): WReN arithmetic, dropout, initialisation, embedders."""
import math

import gin
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlib_torch.evaluation.abstract_reasoning import models
from dlib_torch.evaluation.abstract_reasoning import relational_layers


@pytest.fixture(autouse=True)
def _clear_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def _wren(embedding_dim=5, keep=None):
    return models.OptimizedWildRelNet(edge_mlp=[16, 12], graph_mlp=[8, 6], dropout_in_last_graph_layer=keep,
                                      embedding_dim=embedding_dim)


def _naive_wren(net, context, answers):
    """The reference's layer order literally: stack, position tags, all 81 concatenated pairs, MLPs, sums."""
    nodes = relational_layers.add_positional_encoding(relational_layers.stack_answers(context, answers))
    x = relational_layers.pairwise_edge_embeddings(nodes)
    for layer in net.edge_layers:
        x = F.relu(layer(x))
    x = x.sum(dim=-2).sum(dim=-2)
    for layer in net.graph_layers:
        x = F.relu(layer(x))
    return net.output_layer(x).sum(dim=-1)


def test_wren_equals_the_reference_layer_order():
    torch.manual_seed(0)
    net = _wren().double()
    context, answers = torch.randn(3, 8, 5, dtype=torch.float64), torch.randn(3, 6, 5, dtype=torch.float64)
    logits = net(context, answers)
    assert logits.shape == (3, 6)
    assert torch.allclose(logits, _naive_wren(net, context, answers), atol=1e-10)
    # Answer k's logit depends on answer k only.
    changed = answers.clone()
    changed[:, 2] += 1
    difference = (net(context, changed) - logits).abs()
    assert difference[:, 2].min() > 0 and difference[:, [0, 1, 3, 4, 5]].max() < 1e-12


def test_relational_layers():
    nodes = torch.arange(6.).reshape(1, 3, 2)
    pairs = relational_layers.pairwise_edge_embeddings(nodes)
    assert pairs.shape == (1, 3, 3, 4)
    assert pairs[0, 1, 2].tolist() == [2., 3., 4., 5.]  # (node 1, node 2)
    tagged = relational_layers.add_positional_encoding(nodes)
    assert tagged[0, :, 2:].tolist() == torch.eye(3).tolist()
    stacked = relational_layers.stack_answers(torch.zeros(2, 8, 4), torch.ones(2, 6, 4))
    assert stacked.shape == (2, 6, 9, 4) and stacked[:, :, 8].eq(1).all() and stacked[:, :, :8].eq(0).all()


def test_dropout_keeps_the_given_fraction_with_one_mask_per_batch():
    torch.manual_seed(0)
    net = models.OptimizedWildRelNet(edge_mlp=[8], graph_mlp=[4000], dropout_in_last_graph_layer=0.25,
                                     embedding_dim=3)
    with torch.no_grad():
        net.graph_layers[-1].weight.zero_()  # every unit 1 before dropout: zeros come from dropout only
        net.graph_layers[-1].bias.fill_(1.)
    seen = []
    net.output_layer.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    net.train()
    net(torch.randn(4, 8, 3), torch.randn(4, 6, 3))
    kept = seen[-1] != 0
    # One mask for every PGM and every answer (the reference's noise_shape [1, 1, units]) ...
    assert (kept == kept[:1, :1]).all()
    # ... keeping `dropout_in_last_graph_layer` of the units (the reference passes Dropout(1 - value)).
    active = seen[-1][0, 0] != 0
    assert abs(active.float().mean().item() - 0.25) < 0.05
    net.eval()
    net(torch.randn(4, 8, 3), torch.randn(4, 6, 3))
    assert (seen[-1] != 0).all()  # no dropout at evaluation


def test_lecun_normal_initialisation_and_zero_biases():
    torch.manual_seed(0)
    layer = models.initialize(torch.nn.Linear(400, 300), "lecun_normal")
    std = layer.weight.std().item()
    assert abs(std - math.sqrt(1 / 400)) < 0.05 * math.sqrt(1 / 400)
    assert layer.weight.abs().max().item() <= 2 * math.sqrt(1 / 400) / models.TRUNCATED_NORMAL_STDDEV_FACTOR
    assert layer.bias.abs().max().item() == 0
    conv = models.initialize(torch.nn.Conv2d(8, 16, 4), "glorot_uniform")
    limit = math.sqrt(6 / (8 * 16 + 16 * 16))
    assert conv.weight.abs().max().item() <= limit and conv.weight.abs().max().item() > 0.9 * limit


def test_embedders():
    cnn = models.BaselineCNNEmbedder(num_latent=10, observation_shape=(64, 64, 3))
    assert cnn.embedding_dim == 1024
    batch = {"context": torch.rand(2, 8, 64, 64, 3), "answers": torch.rand(2, 6, 64, 64, 3)}
    context, answers = cnn(batch)
    assert context.shape == (2, 8, 1024) and answers.shape == (2, 6, 1024)
    assert torch.allclose(answers[1, 3], cnn.embed_images(batch["answers"][1, 3][None])[0], atol=1e-6)

    factors = {"context_factors": torch.tensor([[[0, 5], [4, 0]]]), "answers_factors": torch.tensor([[[2, 3]]])}
    values = models.FactorEmbedder("values", [5, 6])
    assert values(factors)[0].tolist() == [[[-0.5, 0.5], [0.5, -0.5]]]
    onehot = models.FactorEmbedder("onehot", [5, 6])
    assert onehot.embedding_dim == 11
    assert onehot(factors)[1].tolist() == [[[0., 0., 1., 0., 0., 0., 0., 0., 1., 0., 0.]]]


def test_two_stage_model_defaults_to_tf_adam_and_checks_its_embedding():
    gin.bind_parameter("OptimizedWildRelNet.edge_mlp", [8])
    gin.bind_parameter("OptimizedWildRelNet.graph_mlp", [8])
    gin.bind_parameter("OptimizedWildRelNet.dropout_in_last_graph_layer", 0.5)
    gin.bind_parameter("AdamOptimizer.learning_rate", 0.5)  # ignored without optimizer_fn, as in the reference
    model = models.TwoStageModel(embedding_model_class="values", reasoning_model_class=models.OptimizedWildRelNet)
    network = model.build([5, 6, 3], (64, 64, 3))
    optimizer = model.make_optimizer(network)
    assert isinstance(optimizer, models.optimizers.TFAdam)
    assert optimizer.param_groups[0]["lr"] == 0.001 and optimizer.param_groups[0]["eps"] == 1e-8
    configured = models.TwoStageModel("values", models.OptimizedWildRelNet, models.optimizers.AdamOptimizer)
    assert configured.make_optimizer(network).param_groups[0]["lr"] == 0.5
    assert not model.needs_images
    with pytest.raises(models.ConfigError, match="TwoStageModel.embedding_model_class = 'factors'"):
        models.TwoStageModel(embedding_model_class="factors", reasoning_model_class=models.OptimizedWildRelNet)


def test_loss_and_accuracy():
    logits = torch.tensor([[0., 10., 0.], [5., 0., 0.]])
    loss, accuracy = models.loss_and_accuracy(logits, torch.tensor([1, 2]))
    assert accuracy.item() == 0.5
    expected = np.mean([-np.log(np.exp(10) / (np.exp(10) + 2)), -np.log(1 / (np.exp(5) + 2))])
    assert abs(loss.item() - expected) < 1e-5
