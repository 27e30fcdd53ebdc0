"""Training versus held-out combinations side by side, so a model's generalisation failure shows at a glance.

For a model trained on a held-out split (Montero et al., ICLR 2021): examples of the combinations it was
trained on and of those held out, each beside its reconstruction (or, for the ground-truth decoder, beside
the decode of its factors), with the mean squared error of each side.
"""
import numpy as np

from dlib_torch.data.ground_truth import splits
from dlib_torch.visualize import visualize_util

PAIR_GAP_PX = 2  # between an image and its reconstruction
BLOCK_GAP_PX = 30  # between the training block and the held-out block


def save_held_out_panel(image_path, data, split, train_predicate, reconstruct, random_state, trained_side="train",
                        num_examples=16, num_error_examples=256, reconstruction_name="reconstruction"):
    """Writes the picture (trained-on combinations left, the others right); returns the error of each side of
    the split, {"train_mse": ..., "test_mse": ...}.

    Args:
      image_path: the image file to write.
      data: the full ground-truth data set.
      split, train_predicate: the held-out split as in `splits.held_out_split`.
      reconstruct: function (observations, factors) -> images in [0, 1] of the same shape.
      random_state: numpy RandomState; each side draws `num_error_examples` combinations from it.
      trained_side: the side of the split the model was trained on (`held_out.side`).
      num_examples: examples shown per side (the first of those drawn).
      num_error_examples: examples per side over which the mean squared error is measured.
      reconstruction_name: what the right image of each pair is, for the title.
    """
    train_data, test_data = splits.held_out_split(data, split, train_predicate)
    sides = [(train_data, "train"), (test_data, "test")]
    if trained_side == "test":
        sides.reverse()
    blocks, errors = [], {}
    for (side_data, side), label in zip(sides, ("training", "held-out")):
        factors = side_data.sample_factors(num_error_examples, random_state)
        observations = np.asarray(side_data.sample_observations_from_factors(factors, random_state), np.float32)
        reconstructions = np.asarray(reconstruct(observations, factors), np.float32)
        errors[side + "_mse"] = float(np.mean((reconstructions - observations) ** 2))
        shown = min(num_examples, len(observations))
        pairs = [visualize_util.padded_stack([visualize_util.to_rgb(observations[k]),
                                              visualize_util.to_rgb(reconstructions[k])], PAIR_GAP_PX, axis=1)
                 for k in range(shown)]
        block = visualize_util.padded_grid(pairs)
        title = "{} combinations ({:,} of {:,}); MSE over {}: {:.4f}".format(
            label, side_data.num_combinations, int(np.prod(data.factors_num_values)), len(observations),
            errors[side + "_mse"])
        blocks.append(visualize_util.add_title(block, title))
    height = max(block.shape[0] for block in blocks)
    blocks = [np.concatenate([b, np.ones([height - b.shape[0]] + list(b.shape[1:]), b.dtype)]) for b in blocks]
    figure = visualize_util.padded_stack(blocks, BLOCK_GAP_PX, axis=1)
    title = "held-out split {!r}: each pair is image | {}".format(train_data.split_name, reconstruction_name)
    visualize_util.save_image(visualize_util.pad_around(visualize_util.add_title(figure, title)), image_path)
    return errors
