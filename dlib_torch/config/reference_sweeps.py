"""The sweep pieces shared by disentanglement_lib's studies (unsupervised, fairness, abstract reasoning).

Kept in one place so the three studies cannot drift apart; the order of every list is the reference's,
because it fixes the model numbers.
"""
from dlib_torch.config import hyperparams as h


def get_seeds(num):
    """`model.random_seed` = 0 .. num - 1."""
    return h.sweep("model.random_seed", h.categorical(list(range(num))))


def get_architecture():
    """The reference's convolutional encoder and decoder."""
    arch_enc = h.fixed("encoder.encoder_fn", "@conv_encoder", length=1)
    arch_dec = h.fixed("decoder.decoder_fn", "@deconv_decoder", length=1)
    return h.zipit([arch_enc, arch_dec])


def get_default_models():
    """The reference's 6 methods x 6 hyper-parameters = 36 models, in the reference's order."""
    model_name = h.fixed("model.name", "beta_vae")
    model_fn = h.fixed("model.model", "@vae()")
    betas = h.sweep("vae.beta", h.discrete([1., 2., 4., 6., 8., 16.]))
    config_beta_vae = h.zipit([model_name, betas, model_fn])

    model_name = h.fixed("model.name", "annealed_vae")
    model_fn = h.fixed("model.model", "@annealed_vae()")
    iteration_threshold = h.fixed("annealed_vae.iteration_threshold", 100000)
    c_max = h.sweep("annealed_vae.c_max", h.discrete([5., 10., 25., 50., 75., 100.]))
    gamma = h.fixed("annealed_vae.gamma", 1000)
    config_annealed_vae = h.zipit([model_name, c_max, iteration_threshold, gamma, model_fn])

    model_name = h.fixed("model.name", "factor_vae")
    model_fn = h.fixed("model.model", "@factor_vae()")
    discriminator_fn = h.fixed("discriminator.discriminator_fn", "@fc_discriminator")
    gammas = h.sweep("factor_vae.gamma", h.discrete([10., 20., 30., 40., 50., 100.]))
    config_factor_vae = h.zipit([model_name, gammas, model_fn, discriminator_fn])

    config_dip_vae_i = _dip_vae("i", lambda_d_factor=10.)
    config_dip_vae_ii = _dip_vae("ii", lambda_d_factor=1.)

    model_name = h.fixed("model.name", "beta_tc_vae")
    model_fn = h.fixed("model.model", "@beta_tc_vae()")
    betas = h.sweep("beta_tc_vae.beta", h.discrete([1., 2., 4., 6., 8., 10.]))
    config_beta_tc_vae = h.zipit([model_name, model_fn, betas])

    return h.chainit([config_beta_vae, config_factor_vae, config_dip_vae_i, config_dip_vae_ii,
                      config_beta_tc_vae, config_annealed_vae])


def _dip_vae(dip_type, lambda_d_factor):
    """The six DIP-VAE models of one type (the reference's lambda_od grid)."""
    return h.zipit([h.fixed("model.name", "dip_vae_" + dip_type), h.fixed("model.model", "@dip_vae()"),
                    h.sweep("dip_vae.lambda_od", h.discrete([1., 2., 5., 10., 20., 50.])),
                    h.fixed("dip_vae.lambda_d_factor", lambda_d_factor), h.fixed("dip_vae.dip_type", dip_type)])


def get_reference_config(datasets, num_seeds):
    """The reference's study grid: datasets x architecture x 36 models x seeds (seed fastest)."""
    return h.product([h.sweep("dataset.name", h.categorical(datasets)), get_architecture(),
                      get_default_models(), get_seeds(num_seeds)])
