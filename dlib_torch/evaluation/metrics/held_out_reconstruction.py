"""Reconstruction of the training and of the held-out factor combinations: the generalisation measure of
Montero et al., "The Role of Disentanglement in Generalisation" (ICLR 2021, https://openreview.net/forum?id=qbH974jKUVy).

For a model trained on one side of a held-out split (`held_out.split` in its train.gin), each image is encoded
to its posterior mean z = mu and decoded; the scores are averaged over the training combinations and over the
held-out ones (the whole sets, as the paper, or seeded samples of `num_samples` combinations each):
  *_nll             Bernoulli negative log-likelihood in nats, summed over pixels (BCE with logits; with
                    `reconstruction_loss.activation = 'tanh'`, of the clipped tanh intensities, as training);
  *_mse             squared error of the decoded intensities, averaged over pixels;
  *_pixel_accuracy  fraction of pixels on the right side of 0.5 (intensity vs target);
with prefixes `train_` and `test_`, and the gaps `nll_gap` = test - train, `mse_gap` = test - train and
`pixel_accuracy_gap` = train - test (each positive when held-out combinations are reconstructed worse), plus
`num_train_combinations`, `num_test_combinations`, `num_train_images`, `num_test_images`.
A ground-truth decoder (`model.model = @gt_decoder()`) decodes the scaled factors instead of an encoding.
A model trained without a held-out split is scored on the whole data set on both sides (the same images when
whole, two independent samples with `num_samples`), so its gaps are 0 or sampling noise.
"""
import ast
import os

import gin
import numpy as np
import torch
from torch.nn import functional as F

from dlib_torch.data.ground_truth import factor_scaling
from dlib_torch.data.ground_truth import ground_truth_data as ground_truth_data_lib
from dlib_torch.data.ground_truth import splits
from dlib_torch.data.ground_truth import util
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError

_CLIP = 1e-6  # the training loss's clipping of tanh intensities


@gin.configurable("held_out_reconstruction",
                  denylist=["ground_truth_data", "representation_function", "random_state", "artifact_dir",
                            "model_dir"])
def compute_held_out_reconstruction(ground_truth_data, representation_function, random_state, artifact_dir=None,
                                    model_dir=None, num_samples=None, batch_size=256):
    """Computes reconstruction scores on the training and on the held-out combinations of a model's split.

    Args:
      (the metric interface's arguments: see evaluation/metrics/__init__.py)
      model_dir: the trained model's directory (dtl_evaluate passes it): exported modules and train.gin.
      num_samples: combinations scored per side, drawn without replacement; None scores every combination.
      batch_size: images per forward pass.

    Returns:
      Dict with the keys listed in the module docstring.
    """
    del representation_function, artifact_dir
    if model_dir is None:
        raise UserError("held_out_reconstruction needs the trained model's directory (model_dir); dtl_evaluate "
                        "passes it when it evaluates a postprocessed representation of the model")
    train_config = _train_config(model_dir)
    from dlib_torch.evaluation import evaluate  # pylint: disable=import-outside-toplevel (evaluate imports metrics)
    reconstruct = model_reconstruction(model_dir, ground_truth_data.factors_num_values,
                                       device_lib.select_device(evaluate.evaluation_runtime().device))
    activation = train_config.get("reconstruction_loss.activation", "logits")
    train_side, test_side = _sides(ground_truth_data, train_config)

    def side_scores(side):
        factors = _combinations(side, num_samples, random_state)
        return mean_scores(ground_truth_data, factors, reconstruct, activation, batch_size, random_state)

    train_scores = side_scores(train_side)
    test_scores = train_scores if train_side is test_side and num_samples is None else side_scores(test_side)
    return generalisation_scores(train_scores, test_scores, _num_combinations(train_side),
                                 _num_combinations(test_side))


def reconstruction_scores(logits, images, activation="logits"):
    """Per-image scores of reconstructions: {"nll", "mse", "pixel_accuracy"}, each a float64 array [B].

    Args:
      logits: decoder outputs [B, H, W, C] (numpy or torch).
      images: target images [B, H, W, C] in [0, 1].
      activation: how outputs become intensities: 'logits' (sigmoid) or 'tanh' (tanh / 2 + 0.5).
    """
    logits = torch.as_tensor(logits, dtype=torch.float32)
    images = torch.as_tensor(images, dtype=torch.float32)
    logits, images = logits.reshape(len(logits), -1), images.reshape(len(images), -1)
    if activation == "logits":
        nll = F.binary_cross_entropy_with_logits(logits, images, reduction="none").sum(dim=1)
        intensities = torch.sigmoid(logits)
    elif activation == "tanh":
        intensities = torch.tanh(logits) / 2 + 0.5
        clipped = intensities.clamp(_CLIP, 1 - _CLIP)
        nll = -(images * torch.log(clipped) + (1 - images) * torch.log(1 - clipped)).sum(dim=1)
    else:
        raise UserError("reconstruction_loss.activation must be 'logits' or 'tanh', not {!r}".format(activation))
    mse = (intensities - images).square().mean(dim=1)
    pixel_accuracy = ((intensities > 0.5) == (images > 0.5)).double().mean(dim=1)
    return {"nll": nll.double().numpy(), "mse": mse.double().numpy(), "pixel_accuracy": pixel_accuracy.numpy()}


def generalisation_scores(train_scores, test_scores, num_train_combinations, num_test_combinations):
    """The result dict from per-side mean scores ({"nll", "mse", "pixel_accuracy", "num_images"})."""
    scores = {}
    for key in ("nll", "mse", "pixel_accuracy"):
        scores["train_" + key] = train_scores[key]
        scores["test_" + key] = test_scores[key]
    scores["nll_gap"] = test_scores["nll"] - train_scores["nll"]
    scores["mse_gap"] = test_scores["mse"] - train_scores["mse"]
    scores["pixel_accuracy_gap"] = train_scores["pixel_accuracy"] - test_scores["pixel_accuracy"]
    scores["num_train_combinations"] = int(num_train_combinations)
    scores["num_test_combinations"] = int(num_test_combinations)
    scores["num_train_images"] = int(train_scores["num_images"])
    scores["num_test_images"] = int(test_scores["num_images"])
    return scores


def mean_scores(data, factors, reconstruct, activation, batch_size, random_state):
    """Reconstruction scores averaged over the images of `factors` [N, num_factors] (NaN if N = 0)."""
    totals = {"nll": 0.0, "mse": 0.0, "pixel_accuracy": 0.0}
    for start in range(0, len(factors), batch_size):
        batch = factors[start:start + batch_size]
        images = np.asarray(data.sample_observations_from_factors(batch, random_state), dtype=np.float32)
        for key, values in reconstruction_scores(reconstruct(images, batch), images, activation).items():
            totals[key] += float(np.sum(values))
    means = {key: total / len(factors) if len(factors) else float("nan") for key, total in totals.items()}
    means["num_images"] = len(factors)
    return means


def model_reconstruction(model_dir, factors_num_values, device):
    """(images, factors) -> decoder logits [B, H, W, C] of a trained model, with z = the posterior mean.

    A model with `exported/gaussian_encoder.pt` decodes the mean of its encoding; a ground-truth decoder
    (only `exported/decoder.pt`) decodes the factors scaled to [0, 1].
    """
    decoder_path = exported_modules.exported_path(model_dir, exported_modules.DECODER)
    encoder_path = exported_modules.exported_path(model_dir, exported_modules.GAUSSIAN_ENCODER)
    if not os.path.exists(decoder_path):
        raise UserError("{} has no exported decoder ({} is missing); retrain the model with dtl_train "
                        "--overwrite".format(model_dir, decoder_path))
    decoder = exported_modules.load(decoder_path, device)
    encoder = exported_modules.load(encoder_path, device) if os.path.exists(encoder_path) else None

    def reconstruct(images, factors):
        with torch.no_grad():
            if encoder is None:
                latents = torch.from_numpy(factor_scaling.scaled_factor_inputs(factors, factors_num_values))
            else:
                latents, _ = encoder(torch.from_numpy(images).to(device))
            return decoder(latents.to(device)).cpu()
    return reconstruct


def _train_config(model_dir):
    """The model's train.gin as {"scope.param": Python value} (strings unquoted, None for None)."""
    path = os.path.join(model_dir, "results", "gin", "train.gin")
    if not os.path.exists(path):
        raise UserError("{} has no training records ({} is missing)".format(model_dir, path))
    return {key: _literal(value) for key, value in results.gin_dict(path).items()}


def _literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # references such as @vae()


def _sides(data, train_config):
    """(training combinations, held-out combinations) of the model's split; the whole data set twice if none."""
    split = train_config.get("held_out.split")
    if split is None:
        return data, data
    train_side, test_side = splits.held_out_split(data, split, train_config.get("held_out.train_predicate"))
    if train_config.get("held_out.side", "train") == "test":  # the model was trained on the held-out predicate
        train_side, test_side = test_side, train_side
    return train_side, test_side


def _combinations(side, num_samples, random_state):
    """Factors [N, num_factors] of a side's combinations in grid order, or of a sample of `num_samples`."""
    factors = side.all_factors() if isinstance(side, splits.HeldOutData) else _all_factors(side)
    if num_samples is None or num_samples >= len(factors):
        return factors
    chosen = np.sort(random_state.choice(len(factors), size=int(num_samples), replace=False))
    return factors[chosen]


def _all_factors(data):
    rows = np.arange(ground_truth_data_lib.factor_grid_size(data), dtype=np.int64)
    return util.rows_to_factors(rows, data.factors_num_values)


def _num_combinations(side):
    if isinstance(side, splits.HeldOutData):
        return side.num_combinations
    return ground_truth_data_lib.factor_grid_size(side)
