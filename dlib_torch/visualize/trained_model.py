"""What the visualisations need to know about a trained model, read from its records and exported modules.

The facts come from `<model_dir>/results/gin/train.gin`, parsed as a file (never from live gin state):
`dataset.name`, `held_out.split` (+ `.train_predicate`, `.side`), `reconstruction_loss.activation`,
`encoder.num_latent` and `model.model`. The networks are the TorchScript exports of DESIGN §3.
"""
import ast
import dataclasses
import os
from typing import Optional

import numpy as np
import scipy.special

from dlib_torch.data.ground_truth import factor_scaling
from dlib_torch.utils import exported_modules
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError


def sigmoid(x):
    """Pixel intensities of 'logits' outputs."""
    return scipy.special.expit(x)


def tanh(x):
    """Pixel intensities of 'tanh' outputs: tanh(x) / 2 + 0.5, as the reference."""
    return np.tanh(x) / 2. + .5


ACTIVATIONS = {"logits": sigmoid, "tanh": tanh}


@dataclasses.dataclass
class TrainedModel:
    """The facts of a model's train.gin that the visualisations use."""
    model_dir: str
    dataset_name: str
    activation: str
    is_gt_decoder: bool
    num_latent: Optional[int]  # None for the ground-truth decoder (its input is the factors)
    held_out_split: Optional[str]
    held_out_train_predicate: Optional[str]
    held_out_side: str  # the side of the split the model was trained on ('train' unless set otherwise)
    is_composer: bool = False  # a Composer (model.model = @composer()), which also exports composer.pt

    @property
    def gin_path(self):
        return os.path.join(self.model_dir, "results", "gin", "train.gin")


def read_trained_model(model_dir):
    """Reads a finished model's train.gin; raises a one-line UserError if the model or a value is missing."""
    output_dirs.require_finished(model_dir, "train", "train it first: dtl_train --model_dir={}".format(model_dir))
    path = os.path.join(model_dir, "results", "gin", "train.gin")
    if not os.path.exists(path):
        raise UserError("{} is missing; the model directory is incomplete (train it again with dtl_train "
                        "--overwrite)".format(path))
    config = results.gin_dict(path)

    def value(key, required=True):
        if key not in config:
            if required:
                raise UserError("{} does not set {}; cannot tell how to visualise the model".format(path, key))
            return None
        text = config[key]
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text  # a gin reference such as @vae()

    activation = value("reconstruction_loss.activation")
    if activation not in ACTIVATIONS:
        raise UserError("{}: reconstruction_loss.activation is {!r}; expected 'logits' or 'tanh'".format(
            path, activation))
    model = str(value("model.model"))
    model_name = model.lstrip("@").split("(")[0].split("/")[-1]
    is_gt_decoder = model_name == "gt_decoder"
    return TrainedModel(
        model_dir=model_dir,
        dataset_name=str(value("dataset.name")),
        activation=activation,
        is_gt_decoder=is_gt_decoder,
        num_latent=None if is_gt_decoder else int(value("encoder.num_latent")),
        held_out_split=value("held_out.split", required=False),
        held_out_train_predicate=value("held_out.train_predicate", required=False),
        held_out_side=value("held_out.side", required=False) or "train",
        is_composer=model_name == "composer",
    )


def _load(model_dir, name, device):
    path = exported_modules.exported_path(model_dir, name)
    if not os.path.exists(path):
        raise UserError("{} is missing; the model's export is incomplete (train it again with dtl_train "
                        "--overwrite)".format(path))
    return exported_modules.load(path, device)


def load_encoder(model_dir, device, batch_size=256):
    """numpy images [B, H, W, C] -> (means, logvars), from `exported/gaussian_encoder.pt`."""
    return exported_modules.numpy_function(_load(model_dir, exported_modules.GAUSSIAN_ENCODER, device), device,
                                           batch_size)


def load_decoder(model_dir, activation, observation_shape, input_size, device, batch_size=256):
    """numpy inputs [B, input_size] -> images [B, H, W, C] in [0, 1] (logits through `activation`).

    Checks once that the decoder takes `input_size` inputs and draws images of `observation_shape`.
    """
    decode_logits = exported_modules.numpy_function(_load(model_dir, exported_modules.DECODER, device), device,
                                                    batch_size)
    try:
        shape = list(decode_logits(np.zeros([1, input_size], dtype=np.float32)).shape[1:])
    except RuntimeError as e:
        raise UserError("{}/exported/decoder.pt does not take {} inputs as train.gin says: {}".format(
            model_dir, input_size, " ".join(str(e).split()[:12]))) from None
    if shape != list(observation_shape):
        raise UserError("{}/exported/decoder.pt draws images of shape {} but the data set has {}".format(
            model_dir, shape, list(observation_shape)))
    to_pixels = ACTIVATIONS[activation]
    return lambda inputs: to_pixels(decode_logits(inputs)).astype(np.float32)


def load_composer(model_dir, activation, device, batch_size=256):
    """numpy (reference, command, actions) -> composed images in [0, 1], from `exported/composer.pt`."""
    import torch  # pylint: disable=import-outside-toplevel
    module = _load(model_dir, exported_modules.COMPOSER, device)
    to_pixels = ACTIVATIONS[activation]

    def compose(reference, command, actions):
        outputs = []
        with torch.no_grad():
            for start in range(0, len(reference), batch_size):
                inputs = [torch.from_numpy(np.asarray(a[start:start + batch_size], np.float32)).to(device)
                          for a in (reference, command, actions)]
                outputs.append(module(*inputs).cpu().numpy())
        return to_pixels(np.concatenate(outputs)).astype(np.float32)
    return compose


def scaled_factors(factors, factors_num_values):
    """The ground-truth decoder's input for integer factors: index / (num_values - 1), 0 if single-valued."""
    return factor_scaling.scaled_factor_inputs(factors, factors_num_values)
