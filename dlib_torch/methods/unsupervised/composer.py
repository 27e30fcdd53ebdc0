"""The Composer of Montero et al., "The Role of Disentanglement in Generalisation" (ICLR 2021), section 3.3 of
the notes: a VAE whose encoder reads a reference and a command image, a mixer that combines the two codes
according to an action (which factor to take from the command), and the VAE's decoder, which draws the result.

Select it with `model.model = @composer()`; the encoder and decoder are `encoder.*` and `decoder.*` as for every
VAE, the optimizer `vae_optimizer`. Training batches are triplets of the training combinations
(`dlib_torch.data.ground_truth.triplets`). Loss = reconstruction of the target (`reconstruction_loss`) + beta *
(KL of the reference's code + KL of the command's code), each averaged over the batch (the paper's code divides
the KL summed over both images by the batch size).

Mixers (`composer.mixer`), z_ref / z_cmd the codes, a the one-hot action:
  'linear'   Linear([z_ref; a]) + Linear([z_cmd; a])                 (the only one the paper reports)
  'interp'   w = sigmoid(Linear([z_ref; z_cmd; a])); w * z_ref + (1 - w) * z_cmd
  'fixint'   a zero-padded to the latent size; z_ref * (1 - a) + z_cmd * a   (latent i <-> factor i; no weights)
  'mlp'      Linear(128) ReLU BatchNorm Linear([z_ref; z_cmd; a])    (the paper code's MLPMixer)

Exports `gaussian_encoder.pt` and `decoder.pt` (DESIGN §3, so every later stage reads the composer's VAE) and
`composer.pt`: (reference [B,H,W,C], command [B,H,W,C], action [B, num_factors]) -> logits [B,H,W,C], with the
codes' means (the paper's eval mode).
"""
import os
from typing import Tuple

import gin
import torch
from torch import nn

from dlib_torch.data.ground_truth import triplets
from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import gaussian_encoder_model
from dlib_torch.methods.unsupervised import vae
from dlib_torch.training import optimizers
from dlib_torch.utils import exported_modules
from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

MIXERS = ("linear", "interp", "fixint", "mlp")


class LinearMixer(nn.Module):
    """Linear([z_ref; a]) + Linear([z_cmd; a]) (the paper's mixer)."""

    def __init__(self, num_latent: int, num_actions: int):
        super().__init__()
        self.reference_projection = nn.Linear(num_latent + num_actions, num_latent)
        self.command_projection = nn.Linear(num_latent + num_actions, num_latent)

    def forward(self, z_reference, z_command, actions):
        return (self.reference_projection(torch.cat([z_reference, actions], dim=1))
                + self.command_projection(torch.cat([z_command, actions], dim=1)))


class InterpolationMixer(nn.Module):
    """A per-latent sigmoid gate between the two codes, computed from both codes and the action."""

    def __init__(self, num_latent: int, num_actions: int):
        super().__init__()
        self.gate = nn.Linear(2 * num_latent + num_actions, num_latent)

    def forward(self, z_reference, z_command, actions):
        weight = torch.sigmoid(self.gate(torch.cat([z_reference, z_command, actions], dim=1)))
        return weight * z_reference + (1.0 - weight) * z_command


class FixedInterpolationMixer(nn.Module):
    """Latent i takes the command's value when the action selects factor i, the reference's otherwise."""

    def __init__(self, num_latent: int, num_actions: int):
        super().__init__()
        if num_latent < num_actions:
            raise ConfigError("composer.mixer = 'fixint' maps latent i to factor i, so encoder.num_latent ({}) must "
                              "be at least the number of factors ({})".format(num_latent, num_actions))
        self.padding = num_latent - num_actions

    def forward(self, z_reference, z_command, actions):
        selected = nn.functional.pad(actions, [0, self.padding])
        return z_reference * (1.0 - selected) + z_command * selected


class MLPMixer(nn.Module):
    """Linear(128), ReLU, BatchNorm, Linear(num_latent) on [z_ref; z_cmd; a]."""

    def __init__(self, num_latent: int, num_actions: int):
        super().__init__()
        self.hidden = nn.Linear(2 * num_latent + num_actions, 128)
        self.norm = nn.BatchNorm1d(128)
        self.output = nn.Linear(128, num_latent)

    def forward(self, z_reference, z_command, actions):
        hidden = self.norm(torch.relu(self.hidden(torch.cat([z_reference, z_command, actions], dim=1))))
        return self.output(hidden)


MIXER_CLASSES = {"linear": LinearMixer, "interp": InterpolationMixer, "fixint": FixedInterpolationMixer,
                 "mlp": MLPMixer}


def make_mixer(name, num_latent, num_actions):
    """The mixer called `name` (one of MIXERS) for codes of `num_latent` and `num_actions` actions."""
    validation.check_choice("composer.mixer", name, MIXERS)
    return MIXER_CLASSES[name](num_latent, num_actions)


class ComposerModule(nn.Module):
    """The exported composer: (reference, command, action) -> logits of the composed image, codes = means."""

    def __init__(self, encoder: nn.Module, mixer: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.mixer = mixer
        self.decoder = decoder

    def forward(self, reference: torch.Tensor, command: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        z_reference: Tuple[torch.Tensor, torch.Tensor] = self.encoder(reference)
        z_command: Tuple[torch.Tensor, torch.Tensor] = self.encoder(command)
        return self.decoder(self.mixer(z_reference[0], z_command[0], actions))


@gin.configurable("composer")
class Composer(gaussian_encoder_model.GaussianEncoderModel):
    """Composer: encode reference and command, mix the codes by the action, decode; trained on triplets."""

    def __init__(self, mixer="linear", beta=1.0, pretrained_model_dir=None, freeze_pretrained=False):
        """
        Args:
          mixer: 'linear' (the paper's), 'interp', 'fixint' or 'mlp' (module docstring).
          beta: weight of the KL of both codes.
          pretrained_model_dir: optional model directory of a trained VAE (`dtl_train`) whose exported encoder
            and decoder start the composer (the paper's composers reused trained LGMs); `encoder.*` and
            `decoder.*` must describe the same architecture.
          freeze_pretrained: train only the mixer, keeping the pretrained encoder and decoder fixed.
        """
        super().__init__()
        validation.check_choice("composer.mixer", mixer, MIXERS)
        self.mixer_name = mixer
        self.beta = validation.check_float("composer.beta", beta, minimum=0.0)
        self.freeze_pretrained = validation.check_bool("composer.freeze_pretrained", freeze_pretrained)
        if pretrained_model_dir is not None:
            pretrained_model_dir = validation.check_string("composer.pretrained_model_dir", pretrained_model_dir)
        elif freeze_pretrained:
            raise ConfigError("composer.freeze_pretrained = True needs composer.pretrained_model_dir")
        self.pretrained_model_dir = pretrained_model_dir
        self._samplers = {}

    @property
    def input_directories(self):
        """Directories training reads besides the data (the stage refuses to write into them)."""
        return [self.pretrained_model_dir] if self.pretrained_model_dir is not None else []

    def build(self, observation_shape, factors_num_values):
        """Creates the configured encoder, decoder and mixer (and loads the pretrained VAE, if any)."""
        self.observation_shape = list(observation_shape)
        self.num_factors = len(factors_num_values)
        self.encoder = architectures.make_gaussian_encoder(self.observation_shape)
        self.num_latent = self.encoder.num_latent
        self.decoder = architectures.make_decoder(self.num_latent, self.observation_shape)
        self.mixer = make_mixer(self.mixer_name, self.num_latent, self.num_factors)
        if self.pretrained_model_dir is not None:
            load_pretrained(self.pretrained_model_dir, self.encoder, self.decoder)
            if self.freeze_pretrained:
                for parameter in list(self.encoder.parameters()) + list(self.decoder.parameters()):
                    parameter.requires_grad_(False)
        return self

    def gaussian_encoder(self, observations):
        return self.encoder(observations)

    def decode(self, latent_tensor):
        return self.decoder(latent_tensor)

    def make_optimizers(self):
        trainable = [p for p in self.parameters() if p.requires_grad]
        if not trainable:
            raise ConfigError("composer.mixer = {!r} has no weights and composer.freeze_pretrained = True freezes "
                              "the encoder and decoder: nothing to train".format(self.mixer_name))
        return [optimizers.make_vae_optimizer(trainable)]

    def sample_batch(self, dataset, batch_size, random_state, device):
        """A batch of training triplets: ((command, action, target) tensors, reference images)."""
        sampler = self._samplers.get(id(dataset))
        if sampler is None:
            sampler = self._samplers[id(dataset)] = (dataset, triplets.TripletSampler.from_data(dataset))
        factors = sampler[1].training_triplets(batch_size, random_state)
        reference, command, target, actions = triplets.render(dataset, factors, random_state)
        tensors = [torch.from_numpy(array).to(device) for array in (command, actions, target)]
        return tuple(tensors), torch.from_numpy(reference).to(device)

    def compose(self, reference, command, actions, sample=True):
        """Logits of the composed image, and the two codes' (mean, logvar)."""
        z_reference, z_command = self.gaussian_encoder(reference), self.gaussian_encoder(command)
        if sample:
            codes = [self.sample_from_latent_distribution(*z) for z in (z_reference, z_command)]
        else:
            codes = [z_reference[0], z_command[0]]
        return self.decode(self.mixer(codes[0], codes[1], actions)), z_reference, z_command

    def model_fn(self, observations, global_step, factors):
        """Loss on a batch of triplets (observations = reference images, factors = (command, action, target))."""
        del global_step
        command, actions, target = factors
        logits, z_reference, z_command = self.compose(observations, command, actions)
        reconstruction_loss = losses.make_reconstruction_loss(target, logits).mean()
        kl_loss = vae.compute_gaussian_kl(*z_reference) + vae.compute_gaussian_kl(*z_command)
        regularizer = self.beta * kl_loss
        loss = reconstruction_loss + regularizer
        return [loss], {"loss": loss, "reconstruction_loss": reconstruction_loss,
                        "elbo": -(reconstruction_loss + kl_loss), "regularizer": regularizer, "kl_loss": kl_loss}

    def exported_modules(self):
        """The VAE's encoder and decoder (DESIGN §3) and the whole composer."""
        device = next(self.parameters()).device
        image = torch.zeros([1] + self.observation_shape, device=device)
        action = torch.zeros([1, self.num_factors], device=device)
        return {
            "gaussian_encoder.pt": (self.encoder, image),
            "decoder.pt": (self.decoder, torch.zeros([1, self.num_latent], device=device)),
            exported_modules.COMPOSER: (ComposerModule(self.encoder, self.mixer, self.decoder),
                                        (image, image, action)),
        }


def load_pretrained(model_dir, encoder, decoder):
    """Copies the weights of a trained model's exported encoder and decoder into `encoder` and `decoder`."""
    from dlib_torch.utils import output_dirs  # pylint: disable=import-outside-toplevel
    output_dirs.require_finished(model_dir, "train", "train the VAE first with dtl_train --model_dir={}".format(
        model_dir))
    for name, module in ((exported_modules.GAUSSIAN_ENCODER, encoder), (exported_modules.DECODER, decoder)):
        path = exported_modules.exported_path(model_dir, name)
        if not os.path.exists(path):
            raise ConfigError("composer.pretrained_model_dir: {} is missing (is {} a VAE with an encoder?)".format(
                path, model_dir))
        state = exported_modules.load(path).state_dict()
        try:
            module.load_state_dict(state)
        except RuntimeError as e:
            raise ConfigError("composer.pretrained_model_dir: {} does not fit the configured encoder.*/decoder.* "
                              "architecture ({}); configure the same architecture and latent size".format(
                                  path, " ".join(str(e).split()[:20]))) from None

