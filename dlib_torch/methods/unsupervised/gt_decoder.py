"""The ground-truth decoder of Montero et al., "The Role of Disentanglement in Generalisation" (ICLR 2021).

A decoder trained to draw the image of given factor values, with the same reconstruction loss as the VAEs:
a model whose "latent space" is the ground truth, so its generalisation to held-out combinations is the
best a perfectly disentangled encoder could hope for. Select it with `model.model = @gt_decoder()`; the
architecture is `decoder.decoder_fn` and the optimizer `vae_optimizer`.

Its input is the factor indices scaled to [0, 1] per factor, index / (num_values - 1), and 0 for a factor
with a single value. `gt_decoder.inputs = 'scaled'` (the default) feeds these to the network, which makes one
architecture fit every data set; `'raw'` feeds the network the raw factor values instead, as the paper's code
does (`factor_values.raw_factor_values`: dSprites shape 1-3, orientation in radians, ...; use it with
`@higgins_decoder` to reproduce the paper's dSprites decoder). Either way it exports only
`exported/decoder.pt`: scaled factors [B, num_factors] -> logits [B, H, W, C] (with 'raw', a first fixed layer
looks the raw values up), so every later stage reads both alike. The paper's architectures
(paper_architectures.py) are built here with PyTorch's default initialisation, as the paper's `init_decoder`
builds its ground-truth decoder (its Kaiming `weights_init` is for the VAEs only); the reference's architectures
keep theirs (`weight_init.scheme`).
Its `train` results have `loss` (= `reconstruction_loss`), `reconstruction_loss` and `global_step`; it has no
posterior, so no `elbo`, `kl_loss` or `regularizer`.
"""
import gin
import numpy as np
import torch
from torch import nn

from dlib_torch.data.ground_truth import factor_scaling
from dlib_torch.data.ground_truth import factor_values
from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.shared import paper_architectures
from dlib_torch.training import optimizers
from dlib_torch.utils import validation


class RawFactorValues(nn.Module):
    """Scaled factors [B, F] -> the raw values of those factors [B, F], by table look-up."""

    def __init__(self, values):
        super().__init__()
        width = max(len(v) for v in values)
        table = np.zeros((len(values), width), np.float32)
        for i, v in enumerate(values):
            table[i, :len(v)] = v
        self.register_buffer("table", torch.from_numpy(table))
        self.register_buffer("top_index", torch.tensor([len(v) - 1 for v in values], dtype=torch.float32))

    def forward(self, scaled_factors):
        index = torch.minimum(torch.round(scaled_factors * self.top_index), self.top_index).clamp(min=0).long()
        table = self.table.unsqueeze(0).expand(scaled_factors.shape[0], -1, -1)
        return torch.gather(table, 2, index.unsqueeze(2)).squeeze(2)


@gin.configurable("gt_decoder")
class GroundTruthDecoder(nn.Module):
    """Decoder from scaled ground-truth factors to image logits, trained on the reconstruction loss only."""

    needs_factors = True
    global_step_increment = 1

    def __init__(self, inputs="scaled"):
        """`inputs`: what the network sees, 'scaled' factors in [0, 1] or the 'raw' factor values (the paper's)."""
        super().__init__()
        validation.check_choice("gt_decoder.inputs", inputs, ("scaled", "raw"))
        self.inputs = inputs

    def build(self, observation_shape, factors_num_values, factor_names=None):
        """Creates the configured decoder for `len(factors_num_values)` inputs and images of `observation_shape`."""
        self.observation_shape = list(observation_shape)
        self.num_factors = len(factors_num_values)
        self.register_buffer("factor_scale", torch.from_numpy(factor_scaling.factor_scales(factors_num_values)))
        with paper_architectures.pytorch_default_initialisation():  # the paper's init_decoder: no weights_init
            network = architectures.make_decoder(self.num_factors, self.observation_shape)
        if self.inputs == "raw":
            if factor_names is None:
                factor_names = ["factor_{}".format(i) for i in range(self.num_factors)]
            network = nn.Sequential(RawFactorValues(factor_values.raw_factor_values(factor_names,
                                                                                     factors_num_values)), network)
        self.decoder = network
        return self

    def make_optimizers(self):
        return [optimizers.make_vae_optimizer(self.decoder.parameters())]

    def model_fn(self, observations, global_step, factors):
        """Reconstruction loss of the images drawn from their factors; returns ([loss], scalars)."""
        del global_step
        reconstructions = self.decoder(factors.to(self.factor_scale.dtype) * self.factor_scale)
        reconstruction_loss = losses.make_reconstruction_loss(observations, reconstructions).mean()
        return [reconstruction_loss], {"loss": reconstruction_loss, "reconstruction_loss": reconstruction_loss}

    def exported_modules(self):
        example = torch.zeros([1, self.num_factors], device=self.factor_scale.device)
        return {"decoder.pt": (self.decoder, example)}
