"""Tests of dlib_torch/methods/unsupervised/vae.py: the reference's vae_test and hand-computed loss terms."""
import math

import gin
import numpy as np
import pytest
import torch

from dlib_torch.methods.unsupervised import vae


pytestmark = pytest.mark.usefixtures("clean_gin")


def _t(array):
    return torch.as_tensor(np.asarray(array), dtype=torch.float32)


# The reference's vae_test expectations.

@pytest.mark.parametrize("mean, logvar, low, high", [(np.zeros([10, 10]), np.zeros([10, 10]), 0., 0.01),
                                                     (np.ones([10, 10]), np.zeros([10, 10]), 5., 5.01),
                                                     (np.ones([10, 10]), np.ones([10, 10]), 8.58, 8.6)])
def test_compute_gaussian_kl_reference_values(mean, logvar, low, high):
    assert low <= float(vae.compute_gaussian_kl(_t(mean), _t(logvar))) <= high


@pytest.mark.parametrize("step, low, high", [(0, 0., 0.01), (10, 10., 10.01), (100, 100., 100.01),
                                             (101, 100., 100.01)])
def test_anneal_reference_values(step, low, high):
    assert low <= vae.anneal(100., step, 100) <= high


def _symmetric_psd(matrix):
    return (0.5 * (matrix + matrix.T) + np.eye(10) * 10.) / 10.  # the reference's matrix, scaled to unit variances


@pytest.mark.parametrize("mean, cov", [(0., 1.), (0., 4.), (1., 1.), (np.zeros(10), np.ones([10, 10])),
                                       (np.zeros(10), _symmetric_psd(np.random.RandomState(0).random_sample((10, 10))))])
def test_compute_covariance_z_mean_reference_values(mean, cov):
    random_state = np.random.RandomState(1)
    if np.ndim(cov) == 0:
        samples = random_state.normal(mean, math.sqrt(cov), size=(100000, 10))
        cov = np.eye(10) * cov
    else:
        samples = random_state.multivariate_normal(mean, cov, size=100000)
    estimate = vae.compute_covariance_z_mean(_t(samples)).numpy()
    assert 0. <= np.sum((estimate - cov) ** 2) <= 0.1


@pytest.mark.parametrize("matrix, low, high", [(np.ones([10, 10]), 90., 90.1), (np.zeros([10, 10]), 10., 10.1),
                                               (np.eye(10), 0., 0.1), (2. * np.eye(10), 10., 10.1)])
def test_regularize_diag_off_diag_dip_reference_values(matrix, low, high):
    assert low <= float(vae.regularize_diag_off_diag_dip(_t(matrix), 1, 1)) <= high


@pytest.mark.parametrize("z_mean, low, high", [(0., -1.4190, -1.4188), (1., -0.92, -0.91)])
def test_gaussian_log_density_reference_values(z_mean, low, high):
    assert low <= float(vae.gaussian_log_density(torch.ones(1), z_mean, 0.)[0]) <= high


@pytest.mark.parametrize("num_dim, low, high", [(1, 0., 0.1), (10, -62.18, -62.16)])  # -(10 - 1) * ln(1000)
def test_total_correlation_reference_bounds(num_dim, low, high):
    torch.manual_seed(0)
    z = torch.randn(1000, num_dim, dtype=torch.float64)
    value = float(vae.total_correlation(z, torch.zeros_like(z), torch.zeros_like(z)))
    assert low <= value <= high


# Hand-computed values of each model's loss terms.

def test_gaussian_kl_hand_computed():
    mean = np.array([[0.5, -1.0], [2.0, 0.0]])
    logvar = np.array([[0.0, math.log(2.0)], [-1.0, 1.0]])
    per_sample = 0.5 * np.sum(mean ** 2 + np.exp(logvar) - logvar - 1, axis=1)
    assert float(vae.compute_gaussian_kl(_t(mean), _t(logvar))) == pytest.approx(per_sample.mean(), rel=1e-6)


def test_beta_vae_regularizer_is_beta_times_kl():
    assert float(vae.BetaVAE(beta=4.).regularizer(torch.tensor(2.5), None, None, None)) == 10.


@pytest.mark.parametrize("global_step, capacity", [(0, 0.), (25, 5.), (100, 20.), (1000, 20.)])
def test_annealed_vae_regularizer_uses_capacity_at_the_global_step(global_step, capacity):
    model = vae.AnnealedVAE(gamma=3., c_max=20., iteration_threshold=100)
    model.global_step = global_step
    kl = torch.tensor(12.)
    assert float(model.regularizer(kl, None, None, None)) == pytest.approx(3. * abs(12. - capacity))


def _batch_covariance(x):
    centred = x - x.mean(axis=0)
    return centred.T @ centred / len(x)


def test_dip_vae_i_and_ii_regularizers_hand_computed():
    random_state = np.random.RandomState(0)
    z_mean = random_state.normal(size=(6, 3))
    z_logvar = random_state.normal(size=(6, 3)) * 0.3
    kl = 1.5
    lambda_od, lambda_d_factor = 10., 2.
    lambda_d = lambda_od * lambda_d_factor

    def dip(c):
        off = c - np.diag(np.diag(c))
        return lambda_od * np.sum(off ** 2) + lambda_d * np.sum((np.diag(c) - 1) ** 2)

    cov_i = _batch_covariance(z_mean)
    cov_ii = cov_i + np.diag(np.exp(z_logvar).mean(axis=0))
    for dip_type, cov in [("i", cov_i), ("ii", cov_ii)]:
        model = vae.DIPVAE(lambda_od=lambda_od, lambda_d_factor=lambda_d_factor, dip_type=dip_type)
        value = model.regularizer(torch.tensor(kl, dtype=torch.float64), torch.as_tensor(z_mean),
                                  torch.as_tensor(z_logvar), None)
        assert float(value) == pytest.approx(kl + dip(cov), rel=1e-10)


def test_total_correlation_hand_computed_with_explicit_sums():
    random_state = np.random.RandomState(3)
    z, mean, logvar = (random_state.normal(size=(4, 3)) for _ in range(3))
    log_q = np.zeros((4, 4, 3))  # [j, i, l] = log q(z_jl | x_i)
    for j in range(4):
        for i in range(4):
            for l in range(3):
                var = math.exp(logvar[i, l])
                log_q[j, i, l] = -0.5 * math.log(2 * math.pi * var) - (z[j, l] - mean[i, l]) ** 2 / (2 * var)
    log_qz = [math.log(sum(math.exp(log_q[j, i].sum()) for i in range(4))) for j in range(4)]
    log_prod = [sum(math.log(sum(math.exp(log_q[j, i, l]) for i in range(4))) for l in range(3)) for j in range(4)]
    expected = np.mean(np.array(log_qz) - np.array(log_prod))
    value = vae.total_correlation(torch.as_tensor(z), torch.as_tensor(mean), torch.as_tensor(logvar))
    assert float(value) == pytest.approx(expected, rel=1e-10)
    model = vae.BetaTCVAE(beta=6.)
    regularizer = model.regularizer(torch.tensor(2.0, dtype=torch.float64), torch.as_tensor(mean),
                                    torch.as_tensor(logvar), torch.as_tensor(z))
    assert float(regularizer) == pytest.approx(2.0 + 5. * expected, rel=1e-10)


def test_shuffle_codes_permutes_each_dimension_independently():
    torch.manual_seed(0)
    z = torch.arange(100 * 10, dtype=torch.float32).reshape(100, 10)
    shuffled = vae.shuffle_codes(z)
    for d in range(10):
        assert sorted(shuffled[:, d].tolist()) == z[:, d].tolist()
    rows = (shuffled - z[0, :]) // 10  # the source row of each entry
    assert len({tuple(rows[:, d].tolist()) for d in range(10)}) == 10


def test_factor_vae_tc_and_discriminator_loss_hand_computed():
    """One latent dimension, near-zero variance and a linear discriminator make every term computable."""
    gin.parse_config(["encoder.num_latent = 1", "encoder.encoder_fn = @test_encoder",
                      "decoder.decoder_fn = @test_decoder", "discriminator.discriminator_fn = @fc_discriminator",
                      "reconstruction_loss.loss_fn = @bernoulli_loss"])
    model = vae.FactorVAE(gamma=7.).build([2, 2, 1])
    images = torch.tensor([0.1, 0.9, 0.4, 0.6, 0.3, 0.2, 0.8, 0.5]).reshape(2, 2, 2, 1)
    a, b = 0.7, -0.4
    with torch.no_grad():
        model.encoder.e1.weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 1.5]]))
        model.encoder.e1.bias.fill_(0.25)
        model.encoder.e2.weight.zero_()
        model.encoder.e2.bias.fill_(-80.0)  # std = exp(-40): z equals the mean
        for layer in model.discriminator.discriminator.hidden:
            layer.weight.zero_()
            layer.bias.zero_()
            layer.weight[0, 0] = 1.0
        model.discriminator.discriminator.logits.weight.zero_()
        model.discriminator.discriminator.logits.weight[:, 0] = torch.tensor([a, b])
        model.discriminator.discriminator.logits.bias.zero_()
    with torch.no_grad():
        objectives, scalars = model.model_fn(images, global_step=0)

    flat = images.reshape(2, 4).numpy().astype(np.float64)
    z = flat @ np.array([1.0, -2.0, 0.5, 1.5]) + 0.25
    hidden = np.where(z > 0, z, 0.2 ** 6 * z)  # six leaky ReLUs on the first unit
    logits = np.stack([a * hidden, b * hidden], axis=1)
    tc = np.mean(logits[:, 0] - logits[:, 1])
    kl = np.mean(0.5 * (z ** 2 + math.exp(-80.0) + 80.0 - 1))
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    # With one dimension, shuffling only reorders the batch, so batch means are unchanged.
    discriminator_loss = 0.5 * log_probs[:, 0].mean() + 0.5 * log_probs[:, 1].mean()
    assert float(scalars["kl_loss"]) == pytest.approx(kl, rel=1e-5)
    assert float(scalars["regularizer"]) == pytest.approx(kl + 7. * tc, rel=1e-5)
    assert float(objectives[0]) == pytest.approx(float(scalars["reconstruction_loss"]) + kl + 7. * tc, rel=1e-5)
    assert float(objectives[1]) == pytest.approx(-discriminator_loss, rel=1e-5)
    assert set(scalars) == {"loss", "reconstruction_loss", "regularizer", "kl_loss"}


def test_factor_vae_counts_two_global_steps_per_iteration_by_default():
    assert vae.FactorVAE(gamma=1.).global_step_increment == 2
    assert vae.FactorVAE(gamma=1., double_count_global_step=False).global_step_increment == 1


def test_base_vae_loss_is_reconstruction_plus_regularizer_and_reports_negated_elbo():
    gin.parse_config(["encoder.num_latent = 3", "encoder.encoder_fn = @test_encoder",
                      "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @l2_loss"])
    torch.manual_seed(0)
    model = vae.BetaVAE(beta=3.).build([4, 4, 1])
    with torch.no_grad():
        (loss,), scalars = model.model_fn(torch.rand(5, 4, 4, 1), global_step=0)
    recon, kl = float(scalars["reconstruction_loss"]), float(scalars["kl_loss"])
    assert float(loss) == pytest.approx(recon + 3. * kl, rel=1e-6)
    assert float(scalars["elbo"]) == pytest.approx(-(recon + kl), rel=1e-6)
    assert float(scalars["regularizer"]) == pytest.approx(3. * kl, rel=1e-6)


def test_unknown_dip_type_is_a_config_error():
    from dlib_torch.utils.errors import ConfigError
    with pytest.raises(ConfigError, match="dip_type"):
        vae.DIPVAE(lambda_od=1., lambda_d_factor=1., dip_type="iii")


def test_subclass_written_like_the_reference_examples_builds_without_super_init():
    class LegacyStyleVAE(vae.BaseVAE):
        def __init__(self, gamma):  # no super().__init__(), as the reference's TF examples
            self.gamma = gamma

        def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
            return self.gamma * kl_loss

    gin.parse_config(["encoder.num_latent = 2", "encoder.encoder_fn = @test_encoder",
                      "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss"])
    model = LegacyStyleVAE(gamma=2.).build([4, 4, 1])
    assert model.gamma == 2. and len(list(model.parameters())) == 6
    with torch.no_grad():
        (loss,), scalars = model.model_fn(torch.rand(3, 4, 4, 1), global_step=0)
    assert float(scalars["regularizer"]) == pytest.approx(2. * float(scalars["kl_loss"]))
