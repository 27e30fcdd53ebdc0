"""Pictures of a trained model (`dtl_visualize`), as disentanglement_lib's visualize_model.py draws them.

Reads the model's `results/gin/train.gin` (data set, activation, latent size, held-out split) and its
exported modules, and writes into `output_dir`:
  reconstructions/reconstructions.jpg     64 images, each beside its reconstruction (z sampled; a thin grey
                                          line between them), 8x8 grid
  sampled/samples.jpg                     64 decodes of z ~ N(0, I), 8x8 grid
  traversals/traversals{i}.jpg            from the mean code of the i-th of 64 fresh images: each latent
                                          (column, labelled "z3" and its average KL over the 64 images)
                                          set to linspace(-1, 1, 11) (rows), one file per latent
  animated_traversals/{kind}{i}.gif       for the first `num_animations` of those codes, one panel per
                                          latent (labelled "z3") cycling over `num_frames` frames, for the
                                          kinds std_gaussian_cycle, fitted_gaussian_cycle,
                                          fixed_interval_cycle, conf_interval_cycle, minmax_interval_cycle
  interventional_effects/interventional_effect.png   every latent against every factor (visualize_irs)
  held_out/train_vs_held_out.png          (held-out runs) training and held-out combinations beside their
                                          reconstructions (z = mean), with each side's error
  composition/triplets.png                (a Composer) training and held-out triplets: reference | command |
                                          target | output, with each side's error
  results/                                the records of step `visualize` (the model's records carried on)

The ground-truth decoder (`model.model = @gt_decoder()`) has no encoder; its input is the factors. It writes
reconstructions.jpg (each image beside the decode of its factors), samples.jpg (decodes of random factor
combinations), traversals{i}.jpg for each factor i (from the factors of the i-th of 64 fresh combinations,
each factor (column) swept over 11 of its values spread evenly over its range), animated_traversals/
factor_cycle{i}.gif (each factor (panel, labelled with its name) walking through its values and back),
held_out/train_vs_held_out.png (the true images beside the decodes of their factors) for held-out runs, and
no interventional effects (they describe an encoder).
"""
import numbers
import os
import time

from absl import logging
import gin
import numpy as np

from dlib_torch.data.ground_truth import named_data
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import output_dirs
from dlib_torch.utils import progress
from dlib_torch.utils import results
from dlib_torch.utils import threads
from dlib_torch.utils.errors import UserError
from dlib_torch.visualize import composition_panel
from dlib_torch.visualize import held_out_panel
from dlib_torch.visualize import trained_model
from dlib_torch.visualize import visualize_irs
from dlib_torch.visualize import visualize_util

STEP_NAME = "visualize"
NUM_PICS = 64
PAIR_SEPARATOR_PX = 2  # grey columns between an input and its reconstruction
PAIR_SPACING_PX = 6  # white space between one pair and the next
IRS_SAMPLING_CHUNK = 1000  # observations rendered and encoded at a time for the interventional effects


def visualize(model_dir, output_dir, overwrite=False, num_animations=5, num_frames=20, fps=10,
              num_points_irs=10000, num_threads=None):
    """Takes the trained model in `model_dir` and visualizes it in `output_dir` (see the module docstring).

    Args:
      model_dir: directory of a finished `dtl_train` run.
      output_dir: directory to write; an existing one is replaced only with `overwrite` (or if it is an
        unfinished visualisation, which is redone).
      overwrite: whether to replace an existing `output_dir`.
      num_animations: number of base codes animated per kind of cycle.
      num_frames: frames per animation.
      fps: frames per second of the animations.
      num_points_irs: number of points of the interventional-effect plots.
      num_threads: CPU threads (None: $OMP_NUM_THREADS, else what the process may use).
    """
    start_time = time.time()
    try:
        _check_settings(num_animations, num_frames, fps, num_points_irs)
        model = trained_model.read_trained_model(model_dir)
        output_dirs.check_output_directory(output_dir, STEP_NAME, overwrite, inputs=[model_dir])
        threads.configure(num_threads, "--num_threads", lambda line: logging.info("Visualizing %s: %s", model_dir,
                                                                                   line))
        dataset = named_data.get_named_ground_truth_data(model.dataset_name)
        device = device_lib.select_device("auto")
        if model.is_gt_decoder:
            input_size = dataset.num_factors
        else:
            input_size = model.num_latent
            encoder = trained_model.load_encoder(model_dir, device)
        decoder = trained_model.load_decoder(model_dir, model.activation, dataset.observation_shape, input_size,
                                             device)
        with output_dirs.claim(output_dir, STEP_NAME, overwrite, inputs=[model_dir]):
            # Fix the random seed for reproducibility (the reference's stream of draws).
            random_state = np.random.RandomState(0)
            if model.is_gt_decoder:
                _visualize_gt_decoder(dataset, decoder, output_dir, random_state, num_animations, num_frames, fps)
                reconstruct = lambda observations, factors: decoder(  # noqa: E731
                    trained_model.scaled_factors(factors, dataset.factors_num_values))
            else:
                _visualize_gaussian_model(dataset, encoder, decoder, model.num_latent, output_dir, random_state,
                                          num_animations, num_frames, fps, num_points_irs)
                reconstruct = lambda observations, factors: decoder(encoder(observations)[0])  # noqa: E731

            results_dict = {"num_animations": num_animations, "num_frames": num_frames, "fps": fps,
                            "num_points_irs": 0 if model.is_gt_decoder else num_points_irs}
            if model.held_out_split is not None:
                # Its own seed, so the outputs above draw exactly what the reference draws.
                errors = held_out_panel.save_held_out_panel(
                    os.path.join(output_dir, "held_out", "train_vs_held_out.png"), dataset, model.held_out_split,
                    model.held_out_train_predicate, reconstruct, np.random.RandomState(0), model.held_out_side,
                    reconstruction_name="decode of its factors" if model.is_gt_decoder else "reconstruction (z = mean)")
                results_dict.update({"held_out_" + key: value for key, value in errors.items()})
            if model.is_composer:
                errors = _visualize_composer(model, dataset, device, output_dir)
                results_dict.update({"composition_" + key: value for key, value in errors.items()})
            results_dict["elapsed_time"] = time.time() - start_time
            results.update_result_directory(os.path.join(output_dir, "results"), STEP_NAME, results_dict,
                                            old_result_directory=os.path.join(model_dir, "results"))
    finally:
        # Finally, clear the gin config, as the reference does.
        gin.clear_config()


def _visualize_composer(model, dataset, device, output_dir):
    """The Composer's triplet panel (its own seed); returns each side's mean squared error."""
    from dlib_torch.data.ground_truth import triplets  # pylint: disable=import-outside-toplevel
    sampler = triplets.TripletSampler.from_split(dataset, model.held_out_split, model.held_out_train_predicate,
                                                 model.held_out_side)
    compose = trained_model.load_composer(model.model_dir, model.activation, device)
    return composition_panel.save_composition_panel(os.path.join(output_dir, "composition", "triplets.png"),
                                                    dataset, sampler, compose, np.random.RandomState(0))


def _visualize_gaussian_model(dataset, encoder, decoder, num_latent, output_dir, random_state, num_animations,
                              num_frames, fps, num_points_irs):
    """The reference's outputs for a model with a Gaussian encoder, in the reference's order of draws."""
    # Reconstructions from a sampled z; the noise has its own generator (the reference's came from TF).
    real_pics = dataset.sample_observations(NUM_PICS, random_state)
    means, logvars = encoder(real_pics)
    noise = np.random.RandomState(1).normal(size=means.shape).astype(np.float32)
    pics = decoder(means + np.exp(logvars / 2) * noise)
    _save_pairs(real_pics, pics, os.path.join(output_dir, "reconstructions", "reconstructions.jpg"))

    random_codes = random_state.normal(0, 1, [NUM_PICS, num_latent])
    visualize_util.grid_save_images(decoder(random_codes), os.path.join(output_dir, "sampled", "samples.jpg"))

    means, logvars = encoder(dataset.sample_observations(NUM_PICS, random_state))
    # Each latent's column is labelled with its average KL over these images: active latents stand out.
    kl = latent_kl(means, logvars)
    label_lines = [["z{}".format(j) for j in range(num_latent)], ["KL {:.2f}".format(value) for value in kl]]
    for i in range(min(num_latent, NUM_PICS)):
        pics = latent_traversal_1d_multi_dim(decoder, means[i, :], None)
        visualize_util.save_image(visualize_util.add_column_labels(pics, label_lines, dataset.observation_shape[1]),
                                  os.path.join(output_dir, "traversals", "traversals{}.jpg".format(i)))

    labels = ["z{}".format(j) for j in range(num_latent)]
    cycles = latent_cycles(means, logvars, num_frames)
    with progress.Progress("rendering animations", total=len(cycles) * len(means[:num_animations]),
                           unit="GIFs") as bar:
        for kind, cycle in cycles.items():
            for i, base_code in enumerate(means[:num_animations]):
                panels = _animate_inputs(decoder, base_code, [cycle(base_code[j], j) for j in range(num_latent)])
                visualize_util.save_animation(panels, os.path.join(output_dir, "animated_traversals",
                                                                   "{}{}.gif".format(kind, i)), fps, labels)
                bar.update(1)

    factors = dataset.sample_factors(num_points_irs, random_state)
    latents = []
    for start in progress.iterate(range(0, num_points_irs, IRS_SAMPLING_CHUNK), "encoding points of the "
                                  "interventional effects", unit="chunks"):
        chunk = factors[start:start + IRS_SAMPLING_CHUNK]
        latents.append(encoder(dataset.sample_observations_from_factors(chunk, random_state))[0])
    visualize_irs.vis_all_interventional_effects(factors, np.concatenate(latents),
                                                 os.path.join(output_dir, "interventional_effects"),
                                                 factor_names=list(dataset.factor_names))


def latent_kl(means, logvars):
    """Average KL(q(z_j|x) || N(0, 1)) of each latent j over the images of `means`, `logvars` [N, D]."""
    means, logvars = np.asarray(means, dtype=np.float64), np.asarray(logvars, dtype=np.float64)
    return np.mean(0.5 * (np.square(means) + np.exp(logvars) - logvars - 1.0), axis=0)


def latent_cycles(means, logvars, num_frames):
    """The reference's five kinds of latent cycles: name -> function (base value, latent j) -> frame values.

    `means` and `logvars` [N, num_latent] fit a Gaussian per latent (loc = mean of the means, scale =
    sqrt(mean(exp(logvar)) + var(means))) and give its observed range.
    """
    loc = np.mean(means, axis=0)
    scale = np.sqrt(np.mean(np.exp(logvars), axis=0) + np.var(means, axis=0))
    low, high = np.min(means, axis=0), np.max(means, axis=0)
    return {
        "std_gaussian_cycle": lambda base, j: visualize_util.cycle_gaussian(base, num_frames),
        "fitted_gaussian_cycle": lambda base, j: visualize_util.cycle_gaussian(base, num_frames, loc=loc[j],
                                                                               scale=scale[j]),
        "fixed_interval_cycle": lambda base, j: visualize_util.cycle_interval(base, num_frames, -2., 2.),
        "conf_interval_cycle": lambda base, j: visualize_util.cycle_interval(
            base, num_frames, loc[j] - 2. * scale[j], loc[j] + 2. * scale[j]),
        "minmax_interval_cycle": lambda base, j: visualize_util.cycle_interval(base, num_frames, low[j], high[j]),
    }


def _visualize_gt_decoder(dataset, decoder, output_dir, random_state, num_animations, num_frames, fps):
    """The adapted outputs for the ground-truth decoder, whose input is the scaled factors."""
    sizes = dataset.factors_num_values

    def decode(factors):
        return decoder(trained_model.scaled_factors(factors, sizes))

    factors = dataset.sample_factors(NUM_PICS, random_state)
    real_pics = dataset.sample_observations_from_factors(factors, random_state)
    _save_pairs(real_pics, decode(factors), os.path.join(output_dir, "reconstructions", "reconstructions.jpg"))

    visualize_util.grid_save_images(decode(dataset.sample_factors(NUM_PICS, random_state)),
                                    os.path.join(output_dir, "sampled", "samples.jpg"))

    bases = dataset.sample_factors(NUM_PICS, random_state)
    for i in range(min(dataset.num_factors, NUM_PICS)):
        pics = factor_traversal(decode, bases[i], sizes)
        visualize_util.save_image(visualize_util.add_column_labels(pics, [list(dataset.factor_names)],
                                                                   dataset.observation_shape[1]),
                                  os.path.join(output_dir, "traversals", "traversals{}.jpg".format(i)))

    labels = list(dataset.factor_names)
    for i, base in enumerate(progress.iterate(bases[:num_animations], "rendering animations", unit="GIFs")):
        walks = [visualize_util.cycle_factor(base[j], size, num_frames) for j, size in enumerate(sizes)]
        panels = _animate_inputs(decode, base, walks)
        visualize_util.save_animation(panels, os.path.join(output_dir, "animated_traversals",
                                                           "factor_cycle{}.gif".format(i)), fps, labels)


def _animate_inputs(generator_fn, base, walks):
    """Images [num_inputs, num_frames, H, W, C]: input j follows walks[j], the others stay at `base`."""
    num_inputs, num_frames = len(walks), len(walks[0])
    inputs = np.tile(np.asarray(base)[None, None, :], [num_inputs, num_frames, 1])
    for j, walk in enumerate(walks):
        inputs[j, :, j] = walk
    images = generator_fn(inputs.reshape(num_inputs * num_frames, -1))
    return images.reshape([num_inputs, num_frames] + list(images.shape[1:]))


def _save_pairs(real_pics, pics, image_path):
    """Saves each image beside its reconstruction on the reference's square grid, with a thin grey line
    (`PAIR_SEPARATOR_PX`) between the input and its reconstruction and white space (`PAIR_SPACING_PX`) between
    pairs, so that one pair does not run into the next."""
    real_pics, pics = np.asarray(real_pics), np.asarray(pics)
    separator = np.full(real_pics.shape[:2] + (PAIR_SEPARATOR_PX,) + real_pics.shape[3:], 0.5,
                        dtype=real_pics.dtype)
    paired_pics = np.concatenate((real_pics, separator, pics), axis=2)
    visualize_util.grid_save_images(list(paired_pics), image_path, PAIR_SPACING_PX)


def latent_traversal_1d_multi_dim(generator_fn, latent_vector, dimensions=None, values=None, transpose=False):
    """A grid of decodes of `latent_vector` with one dimension replaced by each of `values`.

    As the reference: each column varies one dimension (rows when `transpose`), each row sets it to one value.

    Args:
      generator_fn: function latents [B, D] -> images [B, H, W, C].
      latent_vector: base latent vector [D].
      dimensions: dimensions to vary; an int n means 0..n-1; None means all.
      values: values to set; an int n means linspace(-1, 1, n); None means linspace(-1, 1, 11).
      transpose: whether dimensions are rows instead of columns.

    Returns:
      The grid image [len(values) * H, len(dimensions) * W, C] (transposed layout if `transpose`).
    """
    latent_vector = np.asarray(latent_vector)
    if latent_vector.ndim != 1:
        raise ValueError("Latent vector needs to be 1-dimensional.")
    if dimensions is None:
        dimensions = np.arange(latent_vector.shape[0])
    elif isinstance(dimensions, numbers.Integral):
        if dimensions > latent_vector.shape[0]:
            raise ValueError("The number of dimensions of latent_vector is less than the number of dimensions "
                             "requested in the arguments.")
        if dimensions < 1:
            raise ValueError("The number of dimensions has to be at least 1.")
        dimensions = np.arange(dimensions)
    dimensions = np.asarray(dimensions)
    if dimensions.ndim != 1:
        raise ValueError("Dimensions vector needs to be 1-dimensional.")
    if values is None:
        values = np.linspace(-1., 1., num=11)
    elif isinstance(values, numbers.Integral):
        if values <= 1:
            raise ValueError("If an int is passed for values, it has to be >1.")
        values = np.linspace(-1., 1., num=values)
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError("Values vector needs to be 1-dimensional.")

    strips = []
    for dimension in dimensions:
        vectors = np.tile(latent_vector, [len(values), 1])
        vectors[:, dimension] = values
        strips.append(np.concatenate(list(generator_fn(vectors)), axis=1 if transpose else 0))
    return np.concatenate(strips, axis=0 if transpose else 1)


def factor_traversal(decode_factors, base_factors, factors_num_values, num_values=11):
    """A grid of decodes of `base_factors` with one factor (column) set to each of `num_values` values (rows).

    The values are indices spread evenly over the factor's range (rounded; repeated for factors with fewer
    values), so every image shows a combination of the grid.
    """
    columns = []
    for j, size in enumerate(factors_num_values):
        factors = np.tile(np.asarray(base_factors), [num_values, 1])
        factors[:, j] = np.round(np.linspace(0, size - 1, num_values)).astype(factors.dtype)
        columns.append(np.concatenate(list(decode_factors(factors)), axis=0))
    return np.concatenate(columns, axis=1)


def _check_settings(num_animations, num_frames, fps, num_points_irs):
    for name, value, minimum in (("num_animations", num_animations, 0), ("num_frames", num_frames, 1),
                                 ("num_points_irs", num_points_irs, 1)):
        if not isinstance(value, numbers.Integral) or value < minimum:
            raise UserError("{} must be an integer of at least {}, not {!r}".format(name, minimum, value))
    if not isinstance(fps, numbers.Real) or fps <= 0:
        raise UserError("fps must be positive, not {!r}".format(fps))


