"""Tests of dlib_torch/methods/semi_supervised/semi_supervised_vae.py: annealers, supervised losses, MINE and
the S2 objectives on fixed tensors against the reference's formulas computed independently in numpy."""
import math

import gin
import numpy as np
import pytest
import torch

from dlib_torch.methods.semi_supervised import semi_supervised_vae as s2
from dlib_torch.methods.semi_supervised import train_semi_supervised_lib
from dlib_torch.utils.errors import ConfigError

CONFIG = ["encoder.num_latent = 4", "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder",
          "reconstruction_loss.loss_fn = @bernoulli_loss", "vae_optimizer.optimizer_fn = @AdamOptimizer",
          "annealer.iteration_threshold = 10"]


pytestmark = pytest.mark.usefixtures("clean_gin")


def _t(array):
    return torch.as_tensor(np.asarray(array), dtype=torch.float32)


def _fixed():
    rs = np.random.RandomState(0)
    representation = rs.randn(6, 4)
    labels = np.stack([rs.randint(0, 3, 6), rs.randint(0, 5, 6)], axis=1).astype(np.float64)
    return representation, labels, [3, 5]


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("fn, step, expected", [
    (s2.fixed_annealer, 0, 2.0), (s2.fixed_annealer, 50, 2.0),
    (s2.annealed_annealer, 0, 0.0), (s2.annealed_annealer, 5, 1.0), (s2.annealed_annealer, 20, 2.0),
    (s2.fine_tune_annealer, 10, 0.0), (s2.fine_tune_annealer, 11, 2.0), (s2.fine_tune_annealer, 3, 0.0)])
def test_annealers(fn, step, expected):
    assert fn(2.0, step, 10) == pytest.approx(expected)


def test_l2_with_learned_scale():
    z, y, sizes = _fixed()
    store = s2.VariableStore()
    loss = s2.supervised_regularizer_l2(_t(z), _t(y), sizes, learn_scale=True, variables=store)
    np.testing.assert_allclose(float(loss), np.sum((z[:, :2] * 1.0 - y) ** 2), rtol=1e-5)
    assert float(store.variables["supervised_loss_b"]) == 1.0  # TF's initial value, trained with the VAE


def test_l2_without_scale_keeps_the_reference_broadcast():
    z, y, sizes = _fixed()
    loss = s2.supervised_regularizer_l2(_t(z), _t(y), sizes, learn_scale=False, variables=s2.VariableStore())
    expected = np.sum((np_sigmoid(z[:, None, :2]) - y / np.array(sizes)) ** 2)  # [B, 1, K] - [B, K]: B x B pairs
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_xent():
    z, y, sizes = _fixed()
    p, target = np_sigmoid(z[:, :2]), y / np.array(sizes)
    expected = -np.sum(target * np.log(p) + (1 - target) * np.log(1 - p))
    np.testing.assert_allclose(float(s2.supervised_regularizer_xent(_t(z), _t(y), sizes)), expected, rtol=1e-5)


def test_cov():
    z, y, sizes = _fixed()
    covariance = (z - z.mean(0)).T @ (y - y.mean(0)) / len(z)  # [D, K]
    covariance[0, 0] = covariance[1, 1] = 0
    np.testing.assert_allclose(float(s2.supervised_regularizer_cov(_t(z), _t(y), sizes)), np.sum(covariance ** 2),
                               rtol=1e-5)


@pytest.mark.parametrize("use_order, sigma", [(False, 2.0), (True, 0.5), (False, "learn")])
def test_embed(use_order, sigma):
    z, y, sizes = _fixed()
    store = s2.VariableStore()
    torch.manual_seed(0)
    loss = float(s2.supervised_regularizer_embed(_t(z), _t(y), sizes, sigma=sigma, use_order=use_order,
                                                 variables=store))
    expected = 0.0
    for i, size in enumerate(sizes):
        if use_order:
            embedding = (np.arange(size) * float(store.variables["supervised_loss_{}_slope".format(i)])
                         + float(store.variables["supervised_loss_{}_bias".format(i)]))
        else:
            embedding = store.variables["supervised_loss_{}_embedding".format(i)].detach().numpy()
            assert np.abs(embedding).max() <= math.sqrt(6.0 / (2 * size))  # glorot uniform of a [size] variable
        s = float(store.variables["supervised_loss_{}_sigma".format(i)]) if sigma == "learn" else sigma
        logits = -((z[:, i:i + 1] - embedding) * s) ** 2
        log_softmax = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
        expected += -np.mean(log_softmax[np.arange(len(z)), y[:, i].astype(int)])
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_mine_estimate_matches_the_formula():
    rs = np.random.RandomState(0)
    x, y = rs.randn(8, 3), rs.randn(8, 3)
    torch.manual_seed(0)
    networks = s2.MineNetworks(3)
    torch.manual_seed(5)
    estimates, loss = s2.mine(_t(x), _t(y), networks)
    torch.manual_seed(5)
    permutation = torch.argsort(torch.rand(8, 3), dim=0).numpy()
    w = {k: v.detach().numpy().astype(np.float64) for k, v in networks.state_dict().items()}
    for p in range(3):
        def statistic(a, b):
            h = a[:, None] * w["x_kernel"][p] + w["x_bias"][p] + b[:, None] * w["y_kernel"][p] + w["y_bias"][p]
            h = np.where(h > 0, h, np.exp(h) - 1)
            return (h @ w["out_kernel"][p] + w["out_bias"][p])[:, 0]
        joint = statistic(x[:, p], y[:, p])
        marginal = statistic(x[:, p], y[permutation[:, p], p])
        expected = joint.mean() + np.log(8) - np.log(np.sum(np.exp(marginal)))
        np.testing.assert_allclose(float(estimates[p]), expected, rtol=1e-4)
    np.testing.assert_allclose(float(loss), -float(estimates.sum()), rtol=1e-6)


def _s2_model(name, bindings):
    gin.parse_config(CONFIG + bindings)
    torch.manual_seed(0)
    return gin.get_configurable(name)([3, 5]).build([3, 2, 1], [3, 5])


def _numpy_forward(model, x, xl, eps):
    w = {k: v.detach().numpy().astype(np.float64) for k, v in model.state_dict().items()}
    encode = lambda a: (a.reshape(len(a), -1) @ w["encoder.e1.weight"].T + w["encoder.e1.bias"],
                        a.reshape(len(a), -1) @ w["encoder.e2.weight"].T + w["encoder.e2.bias"])
    m, lv = encode(x)
    ml, _ = encode(xl)
    z = m + np.exp(lv / 2) * eps
    logits = (z @ w["decoder.d1.weight"].T + w["decoder.d1.bias"]).reshape(x.shape)
    p = np_sigmoid(logits)
    reconstruction = np.mean(-np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3)))
    kl = np.mean(0.5 * np.sum(m ** 2 + np.exp(lv) - lv - 1, axis=1))
    return m, lv, ml, z, reconstruction, kl


@pytest.mark.parametrize("name, bindings, unsupervised", [
    ("s2_vae", ["s2_vae.beta = 4.", "s2_vae.gamma_sup = 2."], "beta"),
    ("s2_dip_vae", ["s2_dip_vae.lambda_od = 3.", "s2_dip_vae.lambda_d_factor = 0.5", "s2_dip_vae.gamma_sup = 2."],
     "dip"),
    ("s2_beta_tc_vae", ["s2_beta_tc_vae.beta = 6.", "s2_beta_tc_vae.gamma_sup = 2."], "tc")])
@pytest.mark.parametrize("anneal, step, gamma", [("@fixed", 3, 2.0), ("@anneal", 5, 1.0)])
def test_s2_objectives_match_numpy(name, bindings, unsupervised, anneal, step, gamma):
    model = _s2_model(name, bindings + ["supervised_loss.loss_fn = @xent", "annealer.anneal_fn = " + anneal])
    rs = np.random.RandomState(1)
    x, xl = rs.rand(6, 3, 2, 1), rs.rand(6, 3, 2, 1)
    y = np.stack([rs.randint(0, 3, 6), rs.randint(0, 5, 6)], axis=1).astype(np.float64)
    torch.manual_seed(7)
    _, scalars = model.model_fn(_t(x), step, factors=(_t(xl), _t(y)))
    torch.manual_seed(7)
    eps = torch.randn(6, 4).numpy().astype(np.float64)
    m, lv, ml, z, reconstruction, kl = _numpy_forward(model, x, xl, eps)
    target = y / np.array([3, 5])
    supervised = -np.sum(target * np.log(np_sigmoid(ml[:, :2])) + (1 - target) * np.log(1 - np_sigmoid(ml[:, :2])))
    if unsupervised == "beta":
        unsupervised_regularizer = 4. * kl
    elif unsupervised == "dip":
        covariance = np.cov(m.T, bias=True)
        off_diagonal = covariance - np.diag(np.diag(covariance))
        unsupervised_regularizer = kl + 3. * np.sum(off_diagonal ** 2) + 1.5 * np.sum((np.diag(covariance) - 1) ** 2)
    else:
        log_q = -0.5 * ((z[:, None, :] - m[None]) ** 2 * np.exp(-lv[None]) + lv[None] + np.log(2 * np.pi))
        log_qz_product = np.sum(np.log(np.sum(np.exp(log_q), axis=1)), axis=1)
        log_qz = np.log(np.sum(np.exp(np.sum(log_q, axis=2)), axis=1))
        unsupervised_regularizer = kl + 5. * np.mean(log_qz - log_qz_product)
    regularizer = unsupervised_regularizer + gamma * supervised
    expected = {"reconstruction_loss": reconstruction, "kl_loss": kl, "supervised_loss": supervised,
                "regularizer": regularizer, "loss": reconstruction + regularizer, "elbo": -(reconstruction + kl)}
    for key, value in expected.items():
        np.testing.assert_allclose(float(scalars[key]), value, rtol=1e-4, err_msg=key)


def test_supervised_model_trains_the_decoder_on_stopped_codes():
    model = _s2_model("supervised", ["supervised_loss.loss_fn = @cov"])
    rs = np.random.RandomState(1)
    x, xl, y = rs.rand(6, 3, 2, 1), rs.rand(6, 3, 2, 1), rs.randint(0, 3, (6, 2)).astype(np.float64)
    torch.manual_seed(7)
    objectives, scalars = model.model_fn(_t(x), 0, factors=(_t(xl), _t(y)))
    torch.manual_seed(7)
    _, _, ml, _, reconstruction, _ = _numpy_forward(model, x, xl, torch.randn(6, 4).numpy().astype(np.float64))
    covariance = (ml - ml.mean(0)).T @ (y - y.mean(0)) / 6
    covariance[0, 0] = covariance[1, 1] = 0
    np.testing.assert_allclose(float(scalars["supervised_loss"]), np.sum(covariance ** 2), rtol=1e-4)
    np.testing.assert_allclose(float(scalars["loss"]), reconstruction + np.sum(covariance ** 2), rtol=1e-4)
    objectives[0].backward()
    # The encoder's log-variance head feeds only the stopped reconstruction: it gets no gradient.
    assert model.encoder.e2.weight.grad is None or float(model.encoder.e2.weight.grad.abs().sum()) == 0.0


def test_s2_factor_vae_and_mine_have_two_objectives():
    model = _s2_model("s2_factor_vae", ["s2_factor_vae.gamma = 10.", "s2_factor_vae.gamma_sup = 1.",
                                        "supervised_loss.loss_fn = @l2", "annealer.anneal_fn = @fixed",
                                        "discriminator.discriminator_fn = @fc_discriminator",
                                        "discriminator_optimizer.optimizer_fn = @AdamOptimizer"])
    assert model.global_step_increment == 2 and len(model.make_optimizers()) == 2
    # As the reference's var_list: the VAE optimizer trains the encoder and decoder only.
    assert len(model.make_optimizers()[0].parameters) == 6
    gin.clear_config()
    mine_model = _s2_model("s2_mine_vae", ["s2_mine_vae.beta = 1.", "s2_mine_vae.gamma_sup = 1.",
                                           "annealer.anneal_fn = @fixed"])
    rs = np.random.RandomState(1)
    x, xl, y = _t(rs.rand(6, 3, 2, 1)), _t(rs.rand(6, 3, 2, 1)), _t(rs.randint(0, 3, (6, 2)))
    objectives, scalars = mine_model.model_fn(x, 0, factors=(xl, y))
    assert len(objectives) == 2 and mine_model.global_step_increment == 1
    assert set(scalars) == {"loss", "reconstruction_loss", "supervised_loss", "kl_loss"}
    assert float(scalars["supervised_loss"]) >= 0


@gin.configurable("one_too_high_labeller", denylist=["labels", "dataset"])
def _one_too_high_labeller(labels, dataset, random_state):
    """A labeller whose labels run one past its factor sizes."""
    del random_state
    return np.float32(labels) + 1, dataset.factors_num_values


def test_embed_refuses_labels_beyond_the_factor_sizes_in_one_line():
    model = _s2_model("s2_vae", ["s2_vae.beta = 1.", "s2_vae.gamma_sup = 1.", "supervised_loss.loss_fn = @embed",
                                 "embed.sigma = 1.", "annealer.anneal_fn = @fixed",
                                 "labeller.labeller_fn = @bin_labeller"])
    observations = np.zeros((4, 3, 2, 1))
    good = np.array([[0, 4], [2, 0], [1, 1], [0, 3]], dtype=np.float32)  # factor sizes 3 and 5
    model.set_labelled_data(observations, good, observations, good)
    bad = np.array([[0, 4], [2, 5]], dtype=np.float32)
    with pytest.raises(ConfigError, match=r"^supervised_loss.loss_fn = @embed indexes factor 1's 5 embeddings by its "
                                          r"label, but labeller.labeller_fn = @bin_labeller gives it the label 5; "
                                          r"the labels must be integers 0..4"):
        model.set_labelled_data(observations[:2], bad, observations[:0], bad[:0])
    gin.bind_parameter("supervised_loss.loss_fn", s2.supervised_regularizer_xent)  # labels / sizes: no index
    model.set_labelled_data(observations[:2], bad, observations[:0], bad[:0])


def test_embed_with_a_labeller_beyond_the_factor_sizes_stops_before_training(tmp_path):
    # train() itself, not train_with_gin: the unsupervised trainer's `model` may be registered in this process too.
    gin.parse_config(["dataset.name = 'dummy_data'", "encoder.num_latent = 10", "encoder.encoder_fn = @test_encoder",
                      "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
                      "vae_optimizer.optimizer_fn = @AdamOptimizer", "s2_vae.beta = 4.", "s2_vae.gamma_sup = 4.",
                      "annealer.anneal_fn = @fixed", "annealer.iteration_threshold = 1",
                      "supervised_loss.loss_fn = @embed", "embed.sigma = 1.",
                      "labeller.labeller_fn = @one_too_high_labeller"])
    model_dir = tmp_path / "model"
    with pytest.raises(ConfigError, match=r"labeller.labeller_fn = @one_too_high_labeller gives it the label"):
        train_semi_supervised_lib.train(str(model_dir), model=gin.get_configurable("s2_vae"), training_steps=2,
                                        unsupervised_data_seed=0, supervised_data_seed=0, model_seed=0, batch_size=2,
                                        num_labelled_samples=100, train_percentage=0.9)
    assert not (model_dir / "checkpoints").exists()
