"""The semi-supervised VAEs of "Disentangling Factors of Variation Using Few Labels" (Locatello et al.,
https://arxiv.org/abs/1905.01258): an unsupervised VAE objective on unlabelled observations plus an annealed
supervised loss tying the first latent dimensions of labelled observations' means to their labels.

  loss = reconstruction_loss + unsupervised_regularizer + gamma_sup(step) * supervised_loss(z_mean_labelled, y)

gin names and keys as the reference: models `@s2_vae`, `@s2_factor_vae`, `@s2_dip_vae`, `@s2_beta_tc_vae`,
`@s2_mine_vae`, `@supervised`; `supervised_loss.loss_fn` in `@l2`, `@xent`, `@cov`, `@embed`;
`annealer.anneal_fn` in `@fixed`, `@anneal`, `@fine_tune` (with `annealer.iteration_threshold`).
The supervised losses' own variables (l2's scale, embed's embeddings) are created when the model is built, with
TF's default initialiser (glorot uniform), and trained with the VAE as in the reference (except in s2_factor_vae
and s2_mine_vae, whose reference VAE optimizer updates only the encoder and decoder).
"""
import math

import gin
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import vae
from dlib_torch.training import optimizers
from dlib_torch.utils import gin_utils
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError



def _non_negative(model, parameter, value):
    """A model's hyperparameter checked before any work, named as gin names it (e.g. `s2_vae.beta`)."""
    return validation.check_float("{}.{}".format(validation.configurable_name(type(model)), parameter), value,
                                  minimum=0)

class VariableStore(nn.Module):
    """Named parameters created on first use, like TF's get_variable, so loss functions can own variables."""

    def __init__(self):
        super().__init__()
        self.variables = nn.ParameterDict()

    def get(self, name, shape):
        """The variable `name` of `shape`, created glorot-uniform (TF's default initialiser) if new."""
        key = name.replace("/", "_")
        if key not in self.variables:
            self.variables[key] = nn.Parameter(glorot_uniform(shape))
        return self.variables[key]

    def constant(self, name, value):
        """The variable `name`, created with the constant `value` if new."""
        key = name.replace("/", "_")
        if key not in self.variables:
            self.variables[key] = nn.Parameter(torch.tensor(float(value)))
        return self.variables[key]


def glorot_uniform(shape):
    """TF's glorot_uniform for a variable of `shape` (fans of a scalar are 1, of a vector its length)."""
    if len(shape) == 0:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    else:
        fan_in, fan_out = shape[-2], shape[-1]
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(shape) * 2 - 1) * limit


# Annealers of the supervised loss's weight.
@gin.configurable("annealer", denylist=["gamma", "step"])
def make_annealer(gamma, step, iteration_threshold=gin.REQUIRED, anneal_fn=gin.REQUIRED):
    """The weight of the supervised loss at global step `step`."""
    return anneal_fn(gamma, step, iteration_threshold)


@gin.configurable("fixed", denylist=["gamma", "step"])
def fixed_annealer(gamma, step, iteration_threshold):
    """gamma at every step."""
    del step, iteration_threshold
    return gamma


@gin.configurable("anneal", denylist=["gamma", "step"])
def annealed_annealer(gamma, step, iteration_threshold):
    """Grows linearly from 0 to gamma at `iteration_threshold`."""
    return min(gamma * 1.0, gamma * 1.0 * float(step) / iteration_threshold)


@gin.configurable("fine_tune", denylist=["gamma", "step"])
def fine_tune_annealer(gamma, step, iteration_threshold):
    """0 up to `iteration_threshold`, gamma from the step after it."""
    return gamma * min(1.0, max(0.0, float(step - iteration_threshold)))


# Supervised losses: representation [B, D] (the labelled observations' means), labels [B, K] float.
@gin.configurable("supervised_loss", denylist=["representation", "labels", "variables"])
def make_supervised_loss(representation, labels, factor_sizes=None, loss_fn=gin.REQUIRED, variables=None):
    """The configured supervised loss; its variables live in `variables` (a VariableStore)."""
    return loss_fn(representation, labels, factor_sizes, variables=variables)


def normalize_labels(labels, factors_num_values):
    """Labels divided by the number of values of their factor (into [0, 1))."""
    return labels / torch.as_tensor(np.float32(factors_num_values), device=labels.device)


def _check_enough_latents(representation, labels):
    if representation.shape[1] < labels.shape[1]:
        raise ConfigError("the supervised loss needs at least as many latent dimensions as labelled factors: "
                          "encoder.num_latent = {} < {} factors".format(representation.shape[1], labels.shape[1]))


@gin.configurable("l2", denylist=["representation", "labels", "variables"])
def supervised_regularizer_l2(representation, labels, factor_sizes=None, learn_scale=True, variables=None):
    """Squared error between the first K latents and the labels: sum((z * b - y)^2) with a learned scale b, or
    without it sum((sigmoid(z) - y / factor_sizes)^2).

    Parity quirk: without `learn_scale` the reference subtracts [B, K] from [B, 1, K], which broadcasts to all
    B x B pairs of the batch; that sum is kept.
    """
    _check_enough_latents(representation, labels)
    num_factors = labels.shape[1]
    if learn_scale:
        b = variables.constant("supervised_loss/b", 1.0)
        return torch.sum(torch.square(representation[:, :num_factors] * b - labels))
    return torch.sum(torch.square(torch.sigmoid(representation[:, :num_factors]).unsqueeze(1)
                                  - normalize_labels(labels, factor_sizes)))


@gin.configurable("xent", denylist=["representation", "labels", "variables"])
def supervised_regularizer_xent(representation, labels, factor_sizes=None, variables=None):
    """Sigmoid cross-entropy of the first K latents (logits) against labels / factor_sizes, summed."""
    del variables
    _check_enough_latents(representation, labels)
    num_factors = labels.shape[1]
    return torch.sum(F.binary_cross_entropy_with_logits(
        representation[:, :num_factors], normalize_labels(labels, factor_sizes), reduction="none"))


@gin.configurable("cov", denylist=["representation", "labels", "variables"])
def supervised_regularizer_cov(representation, labels, factor_sizes=None, variables=None):
    """Sum of squares of the cross-covariance [D, K] of latents and labels, its diagonal excluded."""
    del factor_sizes, variables
    representation_centered = representation - representation.mean(dim=0)
    labels_centered = labels - labels.mean(dim=0)
    covariance = torch.mean(representation_centered.unsqueeze(2) * labels_centered.unsqueeze(1), dim=0)
    num_diagonals = min(covariance.shape)
    mask = torch.ones_like(covariance)
    mask[range(num_diagonals), range(num_diagonals)] = 0
    return torch.sum(torch.square(covariance * mask))


@gin.configurable("embed", denylist=["representation", "labels", "factor_sizes", "variables"])
def supervised_regularizer_embed(representation, labels, factor_sizes, sigma=gin.REQUIRED, use_order=False,
                                 variables=None):
    """Per factor j, softmax cross-entropy of logits -((z_j - e_v) * sigma)^2 over the factor's learned value
    embeddings e_v (or e_v = slope * v + bias with `use_order`), averaged over the batch, summed over factors.
    `sigma` is a number or "learn"."""
    num_factors = labels.shape[1]
    loss = 0.0
    for i in range(num_factors):
        if use_order:
            bias = variables.get("supervised_loss/{}/bias".format(i), [])
            slope = variables.get("supervised_loss/{}/slope".format(i), [])
            embedding = torch.arange(int(factor_sizes[i]), dtype=representation.dtype,
                                     device=representation.device) * slope + bias
        else:
            embedding = variables.get("supervised_loss/{}/embedding".format(i), [int(factor_sizes[i])])
        sigma_value = variables.get("supervised_loss/{}/sigma".format(i), [1]) if sigma == "learn" else sigma
        logits = -torch.square((representation[:, i:i + 1] - embedding) * sigma_value)
        loss = loss + F.cross_entropy(logits, labels[:, i].long())
    return loss


def check_embed_labels(labels, factor_sizes):
    """With `supervised_loss.loss_fn = @embed`, whose labels index each factor's embeddings, every label must be
    an integer 0..size - 1 of its factor; otherwise a one-line ConfigError naming the labeller (checked when the
    labelled set is given, before training, instead of an IndexError inside the loss)."""
    loss_fn = gin_utils.query_parameter_or("supervised_loss.loss_fn")
    name = getattr(getattr(loss_fn, "configurable", None), "name", None)
    if factor_sizes is None or (name != "embed" and loss_fn is not supervised_regularizer_embed):
        return
    labels = np.asarray(labels, dtype=np.float64).reshape(-1, len(factor_sizes))
    for i, size in enumerate(factor_sizes):
        column = labels[:, i]
        outside = (column < 0) | (column >= int(size)) | (column != np.floor(column))
        if np.any(outside):
            labeller = gin_utils.query_parameter_or("labeller.labeller_fn")
            labeller = "@" + labeller.configurable.name if hasattr(labeller, "configurable") else repr(labeller)
            raise ConfigError("supervised_loss.loss_fn = @embed indexes factor {}'s {} embeddings by its label, but "
                              "labeller.labeller_fn = {} gives it the label {:g}; the labels must be integers 0..{} "
                              "(the labeller's factor sizes must cover its labels)".format(
                                  i, int(size), labeller, column[outside][0], int(size) - 1))


class BaseS2VAE(vae.BaseVAE):
    """A VAE trained on unlabelled batches plus a labelled batch per step (see the module docstring).

    `set_labelled_data` gives it the labelled observations; `sample_batch` returns
    ((labelled observations, labels), unlabelled observations), labelled rows taken in order and repeated
    (the reference's repeated data set), from the held-back split while evaluating.
    """

    # Whether the VAE optimizer also trains the supervised loss's variables (the reference's var_list).
    train_supervised_variables = True
    # sample_batch advances the checkpointed labelled position and reads train/eval mode: never prefetched.
    sample_batch_uses_model_state = True

    def __init__(self, factor_sizes=None):
        super().__init__()
        self.factor_sizes = factor_sizes
        self.labelled_data = None

    def build(self, observation_shape, factors_num_values=None):
        super().build(observation_shape, factors_num_values)
        if factors_num_values is not None:
            self.factor_sizes = list(factors_num_values)
        # Position in the repeated labelled training set: a buffer, so checkpoints carry it.
        self.register_buffer("labelled_position", torch.zeros((), dtype=torch.int64))
        self._validation_position = 0
        self.supervised_variables = VariableStore()
        with torch.no_grad():  # creates the supervised loss's variables, as TF's graph construction does
            self.supervised_loss(torch.zeros(2, self.num_latent), torch.zeros(2, len(self.factor_sizes)))
        return self

    def set_labelled_data(self, train_observations, train_labels, validation_observations, validation_labels):
        """The labelled observations [N, H, W, C] and labels [N, K] of training and of evaluation."""
        for labels in (train_labels, validation_labels):
            check_embed_labels(labels, self.factor_sizes)
        self.labelled_data = (np.asarray(train_observations, dtype=np.float32),
                              np.asarray(train_labels, dtype=np.float32),
                              np.asarray(validation_observations, dtype=np.float32),
                              np.asarray(validation_labels, dtype=np.float32))

    def train(self, mode=True):
        self._validation_position = 0  # each evaluation starts at the first held-back label
        return super().train(mode)

    def supervised_loss(self, representation, labels):
        return make_supervised_loss(representation, labels, self.factor_sizes, variables=self.supervised_variables)

    def sample_batch(self, dataset, batch_size, random_state, device):
        """((labelled observations, labels), unlabelled observations drawn with `random_state`)."""
        if self.labelled_data is None:
            raise ValueError("set_labelled_data was not called")
        unlabelled = dataset.sample_observations(batch_size, random_state)
        train_observations, train_labels, validation_observations, validation_labels = self.labelled_data
        if self.training or len(validation_labels) == 0:  # no held-back labels: evaluate on the training ones
            observations, labels = train_observations, train_labels
            start = int(self.labelled_position)
            if self.training:
                self.labelled_position += batch_size
        else:
            observations, labels = validation_observations, validation_labels
            start = self._validation_position
            self._validation_position += batch_size
        rows = (start + np.arange(batch_size)) % len(labels)
        to_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(device)
        return (to_tensor(observations[rows]), to_tensor(labels[rows])), to_tensor(unlabelled)

    def make_optimizers(self):
        if self.train_supervised_variables:
            return [optimizers.make_vae_optimizer(self.parameters())]
        return [optimizers.make_vae_optimizer(list(self.encoder.parameters()) + list(self.decoder.parameters()))]

    def encode_both(self, observations, labelled_observations):
        """Encodes the unlabelled and the labelled batch in one call: (z_mean, z_logvar, z_mean_labelled)."""
        batch_size = observations.shape[0]
        z_means, z_logvars = self.gaussian_encoder(torch.cat([observations, labelled_observations], dim=0))
        return z_means[:batch_size], z_logvars[:batch_size], z_means[batch_size:]

    def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        raise NotImplementedError()

    def model_fn(self, observations, global_step, factors=None):
        """Returns ([loss], scalars); `factors` is (labelled observations, labels)."""
        self.global_step = global_step
        labelled_observations, labels = factors
        z_mean, z_logvar, z_mean_labelled = self.encode_both(observations, labelled_observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        reconstructions = self.decode(z_sampled)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
        gamma_annealed = make_annealer(self.gamma_sup, global_step)
        supervised_loss = self.supervised_loss(z_mean_labelled, labels)
        regularizer = self.unsupervised_regularizer(kl_loss, z_mean, z_logvar, z_sampled) \
            + gamma_annealed * supervised_loss
        loss = reconstruction_loss + regularizer
        elbo = reconstruction_loss + kl_loss
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "elbo": -elbo,
                        "regularizer": regularizer, "kl_loss": kl_loss, "supervised_loss": supervised_loss}


class BetaS2VAEBase(BaseS2VAE):
    """A semi-supervised VAE with hyperparameters beta (of its unsupervised regularizer) and gamma_sup (the
    supervised loss's weight): the base of `s2_vae` and `s2_beta_tc_vae`."""

    def __init__(self, factor_sizes=None, beta=gin.REQUIRED, gamma_sup=gin.REQUIRED):
        super().__init__(factor_sizes)
        self.beta = _non_negative(self, "beta", beta)
        self.gamma_sup = _non_negative(self, "gamma_sup", gamma_sup)


@gin.configurable("s2_vae")
class S2BetaVAE(BetaS2VAEBase):
    """Semi-supervised beta-VAE: unsupervised regularizer beta * KL."""

    def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_mean, z_logvar, z_sampled
        return self.beta * kl_loss


@gin.configurable("supervised")
class SupervisedVAE(BaseS2VAE):
    """Fully supervised encoder (the supervised loss only); the decoder learns from stop_gradient(z) so that
    the model can be visualised."""

    def model_fn(self, observations, global_step, factors=None):
        self.global_step = global_step
        labelled_observations, labels = factors
        z_mean, z_logvar, z_mean_labelled = self.encode_both(observations, labelled_observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        reconstructions = self.decode(z_sampled.detach())
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        supervised_loss = self.supervised_loss(z_mean_labelled, labels)
        regularizer = supervised_loss
        loss = reconstruction_loss + regularizer
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss, "regularizer": regularizer,
                        "supervised_loss": supervised_loss}


class MineNetworks(nn.Module):
    """One MINE statistics network per (label l, latent r) pair, evaluated together: T(x, y) =
    Dense(1)(elu(Dense(20)(x) + Dense(20)(y))), TF's dense defaults (glorot-uniform kernels, zero biases)."""

    def __init__(self, num_pairs, hidden=20):
        super().__init__()
        self.x_kernel = nn.Parameter(glorot_uniform([num_pairs, 1, hidden]))
        self.x_bias = nn.Parameter(torch.zeros(num_pairs, hidden))
        self.y_kernel = nn.Parameter(glorot_uniform([num_pairs, 1, hidden]))
        self.y_bias = nn.Parameter(torch.zeros(num_pairs, hidden))
        self.out_kernel = nn.Parameter(glorot_uniform([num_pairs, hidden, 1]))
        self.out_bias = nn.Parameter(torch.zeros(num_pairs, 1))

    def forward(self, x, y):
        """x, y [P, N] (one column per pair) -> statistics [P, N]."""
        hidden = F.elu(x.unsqueeze(2) * self.x_kernel + self.x_bias.unsqueeze(1)
                       + y.unsqueeze(2) * self.y_kernel + self.y_bias.unsqueeze(1))
        return (torch.matmul(hidden, self.out_kernel) + self.out_bias.unsqueeze(1)).squeeze(2)


def mine(x, y, networks):
    """MINE estimates (https://arxiv.org/abs/1801.04062) of I(x_p; y_p) for every pair p, and the networks'
    loss (the negated estimates, summed). x, y: [B, P]; y is shuffled over the batch independently per pair and
    its gradient stopped, as in the reference."""
    batch_size = x.shape[0]
    permutation = torch.argsort(torch.rand(y.shape, device=y.device), dim=0)
    y_shuffled = torch.gather(y, 0, permutation)
    statistics = networks(torch.cat([x, x], dim=0).T, torch.cat([y, y_shuffled], dim=0).detach().T)
    joint, marginal = statistics[:, :batch_size], statistics[:, batch_size:]
    estimates = joint.mean(dim=1) + math.log(batch_size) - torch.logsumexp(marginal, dim=1)
    return estimates, -estimates.sum()


@gin.configurable("s2_mine_vae")
class MineVAE(BaseS2VAE):
    """Semi-supervised VAE penalising gamma_sup(step) * sum over l != r of MINE's I(z_r; y_l)^2 on the labelled
    batch, plus beta * KL. The MINE networks train with their own Adam (learning rate 0.01)."""

    train_supervised_variables = False

    def __init__(self, factor_sizes=None, gamma_sup=gin.REQUIRED, beta=gin.REQUIRED):
        super().__init__(factor_sizes)
        self.gamma_sup = _non_negative(self, "gamma_sup", gamma_sup)
        self.beta = _non_negative(self, "beta", beta)

    def build(self, observation_shape, factors_num_values=None):
        super().build(observation_shape, factors_num_values)
        self.mine_networks = MineNetworks(len(self.factor_sizes) * self.num_latent)
        return self

    def supervised_loss(self, representation, labels):
        return torch.zeros((), device=representation.device)  # MINE replaces the configured supervised loss

    def make_optimizers(self):
        vae_parameters = list(self.encoder.parameters()) + list(self.decoder.parameters())
        mine_optimizer = optimizers.Optimizer(optimizers.TFAdam(self.mine_networks.parameters(), lr=0.01))
        return [optimizers.make_vae_optimizer(vae_parameters), mine_optimizer]

    def model_fn(self, observations, global_step, factors=None):
        """Returns ([VAE loss, MINE networks' loss], scalars)."""
        self.global_step = global_step
        labelled_observations, labels = factors
        z_mean, z_logvar, z_mean_labelled = self.encode_both(observations, labelled_observations)
        num_factors, num_latent = labels.shape[1], z_mean.shape[1]
        # Pair p = l * num_latent + r: latent r against label l.
        x = z_mean_labelled.repeat(1, num_factors)
        y = labels.repeat_interleave(num_latent, dim=1)
        estimates, mine_loss = mine(x, y, self.mine_networks)
        off_diagonal = torch.tensor([l != r for l in range(num_factors) for r in range(num_latent)],
                                    device=estimates.device)
        supervised_loss = torch.sum(torch.square(estimates) * off_diagonal)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        reconstructions = self.decode(z_sampled)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
        gamma_annealed = make_annealer(self.gamma_sup, global_step)
        loss = reconstruction_loss + self.beta * kl_loss + gamma_annealed * supervised_loss
        return [loss, mine_loss], {"loss": loss, "reconstruction_loss": reconstruction_loss,
                                   "supervised_loss": supervised_loss, "kl_loss": kl_loss}


@gin.configurable("s2_factor_vae")
class S2FactorVAE(vae.TotalCorrelationDiscriminator, BaseS2VAE):
    """Semi-supervised FactorVAE: recon + KL + gamma * TC + gamma_sup(step) * supervised loss, TC from a
    discriminator trained as in FactorVAE. As the reference (and `factor_vae`), both optimizers advance the
    global step, so one iteration counts 2 steps unless `double_count_global_step = False`."""

    train_supervised_variables = False

    def __init__(self, factor_sizes=None, gamma=gin.REQUIRED, gamma_sup=gin.REQUIRED, double_count_global_step=True):
        super().__init__(factor_sizes)
        self.gamma = _non_negative(self, "gamma", gamma)
        self.gamma_sup = _non_negative(self, "gamma_sup", gamma_sup)
        self.double_count_global_step = double_count_global_step

    def model_fn(self, observations, global_step, factors=None):
        self.global_step = global_step
        labelled_observations, labels = factors
        z_mean, z_logvar, z_mean_labelled = self.encode_both(observations, labelled_observations)
        z_sampled = self.sample_from_latent_distribution(z_mean, z_logvar)
        tc_loss, discriminator_objective = self.total_correlation(z_sampled)
        reconstructions = self.decode(z_sampled)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        kl_loss = vae.compute_gaussian_kl(z_mean, z_logvar)
        regularizer = kl_loss + self.gamma * tc_loss
        gamma_annealed = make_annealer(self.gamma_sup, global_step)
        supervised_loss = self.supervised_loss(z_mean_labelled, labels)
        loss = reconstruction_loss + kl_loss + self.gamma * tc_loss + gamma_annealed * supervised_loss
        return [loss, -discriminator_objective], {
            "loss": loss, "reconstruction_loss": reconstruction_loss, "regularizer": regularizer,
            "kl_loss": kl_loss, "supervised_loss": supervised_loss}


@gin.configurable("s2_dip_vae")
class S2DIPVAE(BaseS2VAE):
    """Semi-supervised DIP-VAE: unsupervised regularizer KL + DIP penalty (types 'i' and 'ii')."""

    def __init__(self, factor_sizes=None, lambda_od=gin.REQUIRED, lambda_d_factor=gin.REQUIRED,
                 gamma_sup=gin.REQUIRED, dip_type="i"):
        super().__init__(factor_sizes)
        if dip_type not in ("i", "ii"):
            raise ConfigError("s2_dip_vae.dip_type must be 'i' or 'ii', not {!r}".format(dip_type))
        self.lambda_od = _non_negative(self, "lambda_od", lambda_od)
        self.lambda_d_factor = _non_negative(self, "lambda_d_factor", lambda_d_factor)
        self.gamma_sup = _non_negative(self, "gamma_sup", gamma_sup)
        self.dip_type = dip_type

    def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        del z_sampled
        cov_z_mean = vae.compute_covariance_z_mean(z_mean)
        lambda_d = self.lambda_d_factor * self.lambda_od
        if self.dip_type == "i":
            covariance = cov_z_mean
        else:
            covariance = torch.diag(torch.mean(torch.exp(z_logvar), dim=0)) + cov_z_mean
        return kl_loss + vae.regularize_diag_off_diag_dip(covariance, self.lambda_od, lambda_d)


@gin.configurable("s2_beta_tc_vae")
class S2BetaTCVAE(BetaS2VAEBase):
    """Semi-supervised beta-TC-VAE: unsupervised regularizer KL + (beta - 1) * TC."""

    def unsupervised_regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        return (self.beta - 1.0) * vae.total_correlation(z_sampled, z_mean, z_logvar) + kl_loss
