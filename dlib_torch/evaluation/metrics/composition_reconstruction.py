"""How well a Composer composes on training and on held-out triplets: the composition measure of Montero et al.,
"The Role of Disentanglement in Generalisation" (ICLR 2021, https://openreview.net/forum?id=qbH974jKUVy).

The model's exported `composer.pt` (`model.model = @composer()`) maps (reference, command, action) to the target;
its output is scored against the target image on `num_triplets` seeded training triplets (every image a training
combination) and as many held-out triplets (held-out target; see `dlib_torch.data.ground_truth.triplets`):
  *_nll             Bernoulli negative log-likelihood in nats, summed over pixels (the paper's measure);
  *_mse             squared error of the output intensities, averaged over pixels;
  *_pixel_accuracy  fraction of pixels on the right side of 0.5;
with prefixes `train_` and `test_`, the gaps `nll_gap`, `mse_gap` (test - train) and `pixel_accuracy_gap`
(train - test), `num_train_triplets`, `num_test_triplets`, and `held_out_commands_from_training` (1 when the
held-out triplets' commands are training combinations, 0 when they come from the whole grid). A model trained
without a held-out split gets two independent samples of training triplets.
"""
import os

import gin
import numpy as np
import torch

from dlib_torch.data.ground_truth import triplets
from dlib_torch.evaluation.metrics import held_out_reconstruction
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import validation
from dlib_torch.utils.errors import UserError



@gin.configurable("composition_reconstruction",
                  denylist=["ground_truth_data", "representation_function", "random_state", "artifact_dir",
                            "model_dir"])
def compute_composition_reconstruction(ground_truth_data, representation_function, random_state, artifact_dir=None,
                                       model_dir=None, num_triplets=3000, held_out_commands="train",
                                       batch_size=256):
    """Computes composition scores on training and on held-out triplets of a Composer's split.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      model_dir: the trained Composer's directory (dtl_evaluate passes it).
      num_triplets: triplets scored per side.
      held_out_commands: where held-out triplets take their command image: 'train' (the training side, as the
        paper's inputs; an error for extrapolation splits, which hold out values training never shows), 'any'
        (the whole grid), or 'auto' ('train' where the split allows it, else 'any'; for studies that mix splits).
      batch_size: triplets per forward pass.

    Returns:
      Dict with the keys listed in the module docstring.
    """
    del representation_function, artifact_dir
    num_triplets = validation.check_int("composition_reconstruction.num_triplets", num_triplets, minimum=1)
    validation.check_choice("composition_reconstruction.held_out_commands", held_out_commands,
                            triplets.COMMAND_SIDES + ("auto",))
    batch_size = validation.check_int("composition_reconstruction.batch_size", batch_size, minimum=1)
    if model_dir is None:
        raise UserError("composition_reconstruction needs the trained model's directory (model_dir); dtl_evaluate "
                        "passes it when it evaluates a postprocessed representation of the model")
    train_config = held_out_reconstruction._train_config(model_dir)  # pylint: disable=protected-access
    sampler = triplets.TripletSampler.from_split(ground_truth_data, train_config.get("held_out.split"),
                                                 train_config.get("held_out.train_predicate"),
                                                 train_config.get("held_out.side", "train"))
    from dlib_torch.evaluation import evaluate  # pylint: disable=import-outside-toplevel (evaluate imports metrics)
    compose = load_composer(model_dir, device_lib.select_device(evaluate.evaluation_runtime().device))
    activation = train_config.get("reconstruction_loss.activation", "logits")

    train_factors = sampler.training_triplets(num_triplets, random_state)
    if sampler.test_mask is None:
        test_factors = sampler.training_triplets(num_triplets, random_state)
        held_out_commands = "train"
    else:
        if held_out_commands == "auto":
            held_out_commands = "train" if sampler.has_held_out_triplets("train") else "any"
        test_factors = sampler.held_out_triplets(num_triplets, random_state, held_out_commands)
    scores = held_out_reconstruction.generalisation_scores(
        mean_scores(ground_truth_data, train_factors, compose, activation, batch_size, random_state),
        mean_scores(ground_truth_data, test_factors, compose, activation, batch_size, random_state), 0, 0)
    for key in ("combinations", "images"):
        del scores["num_train_" + key], scores["num_test_" + key]
    scores["num_train_triplets"] = len(train_factors.dim)
    scores["num_test_triplets"] = len(test_factors.dim)
    scores["held_out_commands_from_training"] = float(held_out_commands == "train")
    return scores


def mean_scores(data, triplet_factors, compose, activation, batch_size, random_state):
    """Scores of the composed images against the targets, averaged over the triplets."""
    totals = {"nll": 0.0, "mse": 0.0, "pixel_accuracy": 0.0}
    num = len(triplet_factors.dim)
    for start in range(0, num, batch_size):
        batch = triplets.TripletFactors(*(f[start:start + batch_size] for f in triplet_factors))
        reference, command, target, actions = triplets.render(data, batch, random_state)
        logits = compose(reference, command, actions)
        for key, values in held_out_reconstruction.reconstruction_scores(logits, target, activation).items():
            totals[key] += float(np.sum(values))
    means = {key: total / num for key, total in totals.items()}
    means["num_images"] = num
    return means


def load_composer(model_dir, device):
    """(reference, command, actions) numpy -> logits (torch, CPU) of a trained Composer's `exported/composer.pt`."""
    path = exported_modules.exported_path(model_dir, exported_modules.COMPOSER)
    if not os.path.exists(path):
        raise UserError("composition_reconstruction needs a Composer (model.model = @composer()): {} is missing; "
                        "evaluate a composer's representation, or drop this metric for {}".format(path, model_dir))
    module = exported_modules.load(path, device)

    def compose(reference, command, actions):
        with torch.no_grad():
            inputs = [torch.from_numpy(np.asarray(a, np.float32)).to(device) for a in (reference, command, actions)]
            return module(*inputs).cpu()
    return compose
