"""What every trainable model offers the training stage (its export: utils/exported_modules.export_as_torchscript).

A model is an `nn.Module` that `train` drives through a few methods:
  build(observation_shape, factors_num_values)   creates the layers (called once, after seeding torch; a build
                                                 with a `factor_names` parameter also gets the factors' names);
  make_optimizers()                              -> list of `optimizers.Optimizer`;
  model_fn(observations, global_step, factors)   -> (objectives, scalars): one loss per optimizer, each
                                                    minimised over that optimizer's parameters only, and the
                                                    scalars the stage logs and evaluates (reference keys);
  global_step_increment                          how much one iteration advances the global step;
  needs_factors                                  whether model_fn takes the batch's factors;
  exported_modules()                             {file name in exported/: (module, example input)} (DESIGN §3);
optionally sample_batch(dataset, batch_size, random_state, device) (its own batches; called in a background
thread when batches are prefetched, so it must depend only on its arguments, unless the model sets
sample_batch_uses_model_state = True) and input_directories (directories it reads, which the stage refuses as
its output).
"""
import torch
from torch import nn



class GaussianEncoderModel(nn.Module):
    """Base class of models with a Gaussian encoder q(z|x) and a decoder p(x|z)."""

    needs_factors = False
    global_step_increment = 1

    def gaussian_encoder(self, observations):
        """Images [B, H, W, C] -> (mean, log variance), each [B, num_latent]."""
        raise NotImplementedError()

    def decode(self, latent_tensor):
        """Latents [B, num_latent] -> image logits [B, H, W, C]."""
        raise NotImplementedError()

    def sample_from_latent_distribution(self, z_mean, z_logvar):
        """Samples z = mean + exp(logvar / 2) * eps with eps ~ N(0, I) (the torch global generator)."""
        return z_mean + torch.exp(z_logvar / 2) * torch.randn_like(z_mean)
