"""Pictures of a data set's factors: one still per factor, a few animations cycling every factor and, when training
draws correlated factors (`factor_sampling.mode = 'correlated'`), the joint histogram of each correlated pair.

`<output_path>/<dataset_name>/` is a step's output directory (step `visualize_dataset`, with its records and
manifest): a rerun of a finished one does nothing unless `overwrite`, and a user's file there is never removed.
"""
import os
import time

import numpy as np
from matplotlib.figure import Figure

from dlib_torch.data.ground_truth import correlated_factors
from dlib_torch.data.ground_truth import factor_sampling
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import splits
from dlib_torch.utils import atomic
from dlib_torch.utils import output_dirs
from dlib_torch.utils import progress
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError
from dlib_torch.visualize import visualize_util

STEP_NAME = "visualize_dataset"
NUM_JOINT_DRAWS = 100_000


def visualize_dataset(dataset_name, output_path, num_animations=5, num_frames=20, fps=10, overwrite=False,
                      num_joint_draws=NUM_JOINT_DRAWS):
    """Writes `<output_path>/<dataset_name>/variations_of_factor{i}.png` and `animation{j}.gif`, and with
    correlated factor sampling (gin `factor_sampling`, `held_out`) `factor_joint_{i}_{j}.png` per correlated pair;
    returns False when a finished directory was left as it is (no `overwrite`).

    Each still shows 16 observations where only factor i varies; each animation has one panel per factor,
    labelled with the factor's name, walking that factor through its values and back while the others stay
    fixed. A joint picture shows the configured joint of the pair beside the histogram of `num_joint_draws`
    training draws (which a held-out split restricts).
    """
    start = time.time()
    path = os.path.join(output_path, dataset_name)
    data = named_data.get_named_ground_truth_data(dataset_name)
    training = factor_sampling.apply_factor_sampling(splits.apply_held_out_split(data))
    sampling = training.describe() if isinstance(training, correlated_factors.CorrelatedFactors) else "independent"
    if output_dirs.check_output_directory(path, STEP_NAME, overwrite, finished_ok=True) == "finished_ok":
        _require_same_sampling(path, sampling)
        return False
    with output_dirs.claim(path, STEP_NAME, overwrite, finished_ok=True) as claimed:
        if claimed.skip:
            _require_same_sampling(path, sampling)
            return False
        _draw(data, training, path, num_animations, num_frames, fps, num_joint_draws)
        results.update_result_directory(os.path.join(path, "results"), STEP_NAME, {
            "dataset": dataset_name, "num_animations": num_animations, "num_frames": num_frames,
            "factor_sampling": sampling, "elapsed_time": time.time() - start})
    return True


def _require_same_sampling(path, sampling):
    """A finished directory counts as done only for the factor sampling it was drawn with (older ones: independent)."""
    record = results.load_record(os.path.join(path, "results", "json", STEP_NAME + "_results.json"))
    drawn = record.get("factor_sampling", "independent")
    if drawn != sampling:
        raise UserError("{} holds finished pictures of factor sampling '{}', not '{}'; pass --overwrite to draw them "
                        "again, or choose another --path".format(path, drawn, sampling))


def _draw(data, training, path, num_animations, num_frames, fps, num_joint_draws):
    random_state = np.random.RandomState(0)

    for i in range(data.num_factors):
        factors = data.sample_factors(16, random_state)
        others = [j for j in range(data.num_factors) if j != i]
        factors[:, others] = factors[0, others]
        images = data.sample_observations_from_factors(factors, random_state)
        visualize_util.grid_save_images(images, os.path.join(path, "variations_of_factor%s.png" % i))

    labels = list(getattr(data, "factor_names", None) or ["factor {}".format(j) for j in range(data.num_factors)])
    for i in progress.iterate(range(num_animations), "rendering animations", unit="GIFs"):
        base_factor = data.sample_factors(1, random_state)
        images = []
        for j, num_atoms in enumerate(data.factors_num_values):
            factors = np.repeat(base_factor, num_frames, axis=0)
            factors[:, j] = visualize_util.cycle_factor(base_factor[0, j], num_atoms, num_frames)
            images.append(data.sample_observations_from_factors(factors, random_state))
        visualize_util.save_animation(np.array(images), os.path.join(path, "animation%d.gif" % i), fps,
                                      labels)

    if isinstance(training, correlated_factors.CorrelatedFactors):
        draws = training.sample_factors(num_joint_draws, np.random.RandomState(0))
        for (i, j), sigma, direction in zip(training.pairs, training.sigmas, training.directions):
            save_factor_joint(training.pair_joint(i, j), draws[:, i], draws[:, j], labels[i], labels[j], sigma,
                              direction, os.path.join(path, "factor_joint_{}_{}.png".format(i, j)))


def save_factor_joint(configured, values_i, values_j, name_i, name_j, sigma, direction, image_path):
    """Writes the configured joint [n_i, n_j] of a correlated pair beside the histogram of drawn values, with the
    total variation distance between the two in the title."""
    counts = np.zeros(configured.shape)
    np.add.at(counts, (values_i, values_j), 1.0)
    empirical = counts / max(1, len(values_i))
    distance = 0.5 * float(np.abs(empirical - configured).sum())
    fig = Figure(figsize=(10.0, 4.6))
    top = max(float(configured.max()), float(empirical.max()))
    for k, (table, title) in enumerate([
            (configured, "configured: sigma = {:g}, direction {:+d}".format(sigma, direction)),
            (empirical, "{:,} training draws (total variation {:.3f})".format(len(values_i), distance))]):
        ax = fig.add_subplot(1, 2, k + 1)
        image = ax.imshow(table.T, origin="lower", aspect="auto", cmap="viridis", vmin=0.0, vmax=top,
                          interpolation="nearest")
        ax.set_xlabel("{} (index)".format(name_i))
        ax.set_ylabel("{} (index)".format(name_j))
        ax.set_title(title, fontsize=10)
        fig.colorbar(image, ax=ax, label="probability")
    fig.suptitle("Joint of {} and {}".format(name_i, name_j))
    fig.tight_layout()
    with atomic.atomic_path(image_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
