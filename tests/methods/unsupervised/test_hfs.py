"""Tests of dlib_torch/methods/unsupervised/hfs.py: the HFS regulariser against Roth et al.'s own loss code on fixed
inputs (tests/fixtures/hfs/, written by make_fixture.py there), and its behaviour on supports."""
import os

import numpy as np
import pytest
import torch

from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import hfs
from dlib_torch.methods.unsupervised import vae
from dlib_torch.utils.errors import ConfigError

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures",
                       "hfs", "hfs_losses.npz")


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(FIXTURE))


@pytest.mark.parametrize("case", ["all", "five"])
def test_hfs_term_and_its_gradient_match_the_authors_code(reference, case):
    z_mean = torch.tensor(reference["z_mean"], requires_grad=True)
    value = hfs.hausdorff_factorized_support(z_mean, reference[case + "_pairs"])
    assert value.item() == pytest.approx(float(reference[case + "_hfs"]), rel=1e-6)
    value.backward()
    np.testing.assert_allclose(z_mean.grad.numpy(), reference[case + "_hfs_grad"], rtol=1e-6, atol=1e-9)


def test_beta_vae_with_hfs_has_the_authors_total_loss(reference):
    """Reconstruction + beta * KL + gamma * HFS over every latent pair (their loss with all 15 pairs)."""
    images, logits = (torch.tensor(reference[k]) for k in ("images", "logits"))
    z_mean, z_logvar = torch.tensor(reference["z_mean"]), torch.tensor(reference["z_logvar"])
    model = vae.BetaVAE(beta=float(reference["beta"]),
                        hfs=hfs.HausdorffFactorizedSupport(gamma=float(reference["gamma"]), num_latent_pairs=100))
    reconstruction = losses.bernoulli_loss(images, logits, "logits").mean()
    kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
    assert kl_loss.item() == pytest.approx(float(reference["all_kl"]), rel=1e-9)
    total = reconstruction + model.regularizer(kl_loss, z_mean, z_logvar, z_mean)
    assert total.item() == pytest.approx(float(reference["all_loss"]), rel=1e-6)


def test_a_factorized_support_costs_nothing_and_a_diagonal_one_does():
    grid = torch.cartesian_prod(torch.linspace(-1, 1, 5), torch.linspace(-1, 1, 5)).double()  # product support
    assert hfs.hausdorff_factorized_support(grid, [[0, 1]]).item() == 0.0
    diagonal = torch.linspace(-1, 1, 5).double().unsqueeze(1).repeat(1, 2)  # correlated: z_1 == z_0
    # The factorized point (-1, 1) is 2 away (squared) from its nearest diagonal points (-1, -1), (0, 0), (1, 1).
    assert hfs.hausdorff_factorized_support(diagonal, [[0, 1]]).item() == pytest.approx(2.0)


def test_pairs_are_drawn_without_replacement_and_capped():
    torch.manual_seed(0)
    regulariser = hfs.HausdorffFactorizedSupport(gamma=1.0, num_latent_pairs=25)
    pairs = regulariser.draw_pairs(10, "cpu")
    assert pairs.shape == (25, 2) and len({tuple(p) for p in pairs.tolist()}) == 25
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert regulariser.draw_pairs(4, "cpu").shape == (6, 2)
    assert regulariser(torch.zeros(3, 1)).item() == 0.0  # one latent dimension: no pair


@pytest.mark.parametrize("kwargs, message", [(dict(gamma=-1.0), "hfs.gamma = -1.0 is out of range"),
                                             (dict(gamma=1.0, num_latent_pairs=0), "hfs.num_latent_pairs = 0")])
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        hfs.HausdorffFactorizedSupport(**kwargs)
