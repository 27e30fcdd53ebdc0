"""Pictures of a data set's factors: one still per factor and a few animations cycling every factor.

`<output_path>/<dataset_name>/` is a step's output directory (step `visualize_dataset`, with its records and
manifest): a rerun of a finished one does nothing unless `overwrite`, and a user's file there is never removed.
"""
import os
import time

import numpy as np

from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import output_dirs
from dlib_torch.utils import progress
from dlib_torch.utils import results
from dlib_torch.visualize import visualize_util

STEP_NAME = "visualize_dataset"


def visualize_dataset(dataset_name, output_path, num_animations=5, num_frames=20, fps=10, overwrite=False):
    """Writes `<output_path>/<dataset_name>/variations_of_factor{i}.png` and `animation{j}.gif`; returns False
    when a finished directory was left as it is (no `overwrite`).

    Each still shows 16 observations where only factor i varies; each animation has one panel per factor,
    labelled with the factor's name, walking that factor through its values and back while the others stay
    fixed.
    """
    start = time.time()
    path = os.path.join(output_path, dataset_name)
    if output_dirs.check_output_directory(path, STEP_NAME, overwrite, finished_ok=True) == "finished_ok":
        return False
    data = named_data.get_named_ground_truth_data(dataset_name)
    with output_dirs.claim(path, STEP_NAME, overwrite, finished_ok=True) as claimed:
        if claimed.skip:
            return False
        _draw(data, path, num_animations, num_frames, fps)
        results.update_result_directory(os.path.join(path, "results"), STEP_NAME, {
            "dataset": dataset_name, "num_animations": num_animations, "num_frames": num_frames,
            "elapsed_time": time.time() - start})
    return True


def _draw(data, path, num_animations, num_frames, fps):
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
