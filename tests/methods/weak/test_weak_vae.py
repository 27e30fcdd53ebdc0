"""Tests of dlib_torch/methods/weak/weak_vae.py: the objectives on fixed tensors against the reference's
formulas computed independently in numpy, and the posterior aggregations."""
import gin
import numpy as np
import pytest
import torch

from dlib_torch.methods.weak import weak_vae

CONFIG = ["encoder.num_latent = 4", "encoder.encoder_fn = @test_encoder", "decoder.decoder_fn = @test_decoder",
          "reconstruction_loss.loss_fn = @bernoulli_loss", "vae_optimizer.optimizer_fn = @AdamOptimizer"]


pytestmark = pytest.mark.usefixtures("clean_gin")


def _t(array):
    return torch.as_tensor(np.asarray(array), dtype=torch.float32)


def np_kl_divergence(m1, m2, lv1, lv2):
    v1, v2 = np.exp(lv1), np.exp(lv2)
    return v1 / v2 + (m2 - m1) ** 2 / v2 - 1 + lv2 - lv1


def np_upper_bin(x):
    """Two equal-width bins over [min, max] of each row (TF's histogram_fixed_width_bins): True = upper bin."""
    low, high = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    return np.floor(2 * (x - low) / (high - low)) >= 1


def np_gaussian_kl(m, lv):
    return np.mean(0.5 * np.sum(m ** 2 + np.exp(lv) - lv - 1, axis=1))


def np_bernoulli(x, logits):
    p = 1 / (1 + np.exp(-logits))
    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=tuple(range(1, x.ndim)))


def test_discretize_in_bins_splits_each_row_at_half_its_range():
    x = np.array([[0., 1., 2., 3., 4.], [5., 5.1, 9.9, 10., 7.4]])
    bins = weak_vae.discretize_in_bins(_t(x)).numpy()
    np.testing.assert_array_equal(bins, [[0, 0, 1, 1, 1], [0, 0, 1, 1, 0]])
    np.testing.assert_array_equal(bins == 1, np_upper_bin(x))
    # A constant row has no width: every value in bin 0.
    np.testing.assert_array_equal(weak_vae.discretize_in_bins(_t([[3., 3., 3.]])).numpy(), [[0, 0, 0]])


def test_compute_kl_matches_the_formula():
    rs = np.random.RandomState(0)
    m1, m2, lv1, lv2 = (rs.randn(3, 4) for _ in range(4))
    np.testing.assert_allclose(weak_vae.compute_kl(_t(m1), _t(m2), _t(lv1), _t(lv2)).numpy(),
                               np_kl_divergence(m1, m2, lv1, lv2), rtol=1e-5)


def test_aggregate_labels_keeps_the_labelled_dimension_only():
    z, lv = _t(np.arange(8.).reshape(2, 4)), _t(-np.arange(8.).reshape(2, 4))
    new_mean, new_lv = _t(np.full([2, 4], 100.)), _t(np.full([2, 4], -100.))
    labels = torch.nn.functional.one_hot(torch.tensor([1, 3]), 4).float()
    mean, logvar = weak_vae.aggregate_labels(z, lv, new_mean, new_lv, labels, None)
    np.testing.assert_array_equal(mean.numpy(), [[100., 1., 100., 100.], [100., 100., 100., 7.]])
    np.testing.assert_array_equal(logvar.numpy(), [[-100., -1., -100., -100.], [-100., -100., -100., -7.]])
    # A label beyond the latent dimensions (all-zero one-hot row) keeps the own posterior everywhere, as TF.
    mean, _ = weak_vae.aggregate_labels(z, lv, new_mean, new_lv, torch.zeros(2, 4), None)
    np.testing.assert_array_equal(mean.numpy(), z.numpy())


def test_aggregate_argmax_keeps_the_dimensions_that_changed_most():
    kl = np.array([[0.1, 5.0, 0.2, 0.0], [3.0, 2.9, 0.0, 1.0]])
    z, new_mean = _t(np.ones([2, 4])), _t(np.zeros([2, 4]))
    mean, _ = weak_vae.aggregate_argmax(z, z, new_mean, new_mean, None, _t(kl))
    np.testing.assert_array_equal(mean.numpy(), np_upper_bin(kl).astype(np.float32))


@pytest.mark.parametrize("name, averaging, aggregation", [
    ("group_vae_labels", "arithmetic", "labels"), ("group_vae_argmax", "arithmetic", "argmax"),
    ("mlvae_labels", "product", "labels"), ("mlvae_argmax", "product", "argmax")])
def test_loss_matches_the_reference_formula_in_numpy(name, averaging, aggregation):
    beta = 3.0
    gin.parse_config(CONFIG + ["group_vae.beta = {}".format(beta), "mlvae.beta = {}".format(beta)])
    torch.manual_seed(0)
    model = gin.get_configurable(name)().build([3, 2, 1])
    rs = np.random.RandomState(1)
    x1, x2 = rs.rand(5, 3, 2, 1), rs.rand(5, 3, 2, 1)
    labels = np.array([0, 3, 1, 2, 7])  # 7: a factor beyond the 4 latents
    observations = _t(np.concatenate([x1, x2], axis=1))
    torch.manual_seed(42)
    _, scalars = model.model_fn(observations, 0, factors=torch.tensor(labels))
    torch.manual_seed(42)
    eps = torch.randn(10, 4).numpy().astype(np.float64)  # the draw the model makes for both halves

    weights = {k: v.detach().numpy().astype(np.float64) for k, v in model.state_dict().items()}
    encode = lambda x: (x.reshape(5, -1) @ weights["encoder.e1.weight"].T + weights["encoder.e1.bias"],
                        x.reshape(5, -1) @ weights["encoder.e2.weight"].T + weights["encoder.e2.bias"])
    decode = lambda z: (z @ weights["decoder.d1.weight"].T + weights["decoder.d1.bias"]).reshape(5, 3, 2, 1)
    (m1, lv1), (m2, lv2) = encode(x1), encode(x2)
    v1, v2 = np.exp(lv1), np.exp(lv2)
    if averaging == "arithmetic":
        new_mean, new_lv = (m1 + m2) / 2, np.log((v1 + v2) / 2)
    else:
        new_var = 2 * v1 * v2 / (v1 + v2)
        new_mean, new_lv = (m1 / v1 + m2 / v2) * new_var / 2, np.log(new_var)
    if aggregation == "labels":
        keep = np.zeros([5, 4], dtype=bool)
        for i, label in enumerate(labels):
            if label < 4:
                keep[i, label] = True
            else:
                keep[i] = True
    else:
        keep = np_upper_bin(np_kl_divergence(m1, m2, lv1, lv2))
    a_m1, a_lv1 = np.where(keep, m1, new_mean), np.where(keep, lv1, new_lv)
    a_m2, a_lv2 = np.where(keep, m2, new_mean), np.where(keep, lv2, new_lv)
    z1, z2 = a_m1 + np.exp(a_lv1 / 2) * eps[:5], a_m2 + np.exp(a_lv2 / 2) * eps[5:]
    reconstruction = 0.5 * np.mean(np_bernoulli(x1, decode(z1))) + 0.5 * np.mean(np_bernoulli(x2, decode(z2)))
    kl = 0.5 * np_gaussian_kl(a_m1, a_lv1) + 0.5 * np_gaussian_kl(a_m2, a_lv2)
    expected = {"reconstruction_loss": reconstruction, "kl_loss": kl, "regularizer": beta * kl,
                "loss": reconstruction + beta * kl, "elbo": -(reconstruction + kl)}
    for key, value in expected.items():
        np.testing.assert_allclose(float(scalars[key]), value, rtol=1e-4, err_msg=key)


def test_group_vae_beta_binds_every_variant():
    gin.parse_config(CONFIG + ["group_vae.beta = 2.5", "mlvae.beta = 0.5"])
    assert weak_vae.GroupVAEArgmax().beta == 2.5 and weak_vae.GroupVAELabels().beta == 2.5
    assert weak_vae.MLVaeArgmax().beta == 0.5 and weak_vae.MLVaeLabels().beta == 0.5
