"""What a Composer does with training and with held-out triplets (Montero et al., ICLR 2021, composition task).

Each row shows reference | command | target | output, titled with the action (the factor taken from the command,
and the value it changes from -> to); training triplets on the left, held-out ones (held-out target) on the right,
each side with its mean squared error (over `num_error_examples` triplets).
"""
import numpy as np

from dlib_torch.data.ground_truth import triplets
from dlib_torch.visualize import visualize_util

IMAGE_GAP_PX = 2  # between the four images of a row
BLOCK_GAP_PX = 30  # between the training block and the held-out block


def save_composition_panel(image_path, data, sampler, compose, random_state, num_examples=8,
                           num_error_examples=256):
    """Writes the picture; returns {"train_mse", "test_mse"} (test only when the split has held-out triplets).

    Args:
      image_path: the image file to write.
      data: the full ground-truth data set.
      sampler: a `triplets.TripletSampler` of the model's split.
      compose: function (reference, command, actions) numpy -> images in [0, 1].
      random_state: numpy RandomState the triplets are drawn from.
      num_examples: rows shown per side.
      num_error_examples: triplets per side over which the mean squared error is measured.
    """
    sides = [("training", "train", sampler.training_triplets(num_error_examples, random_state))]
    if sampler.test_mask is not None:
        # Extrapolation splits hold out values that only held-out combinations show: commands from anywhere.
        commands = "train" if sampler.has_held_out_triplets("train") else "any"
        held_out = sampler.held_out_triplets(num_error_examples, random_state, commands)
        label = "held-out" if commands == "train" else "held-out (any command)"
        sides.append((label, "test", held_out))
    blocks, errors = [], {}
    for label, side, factors in sides:
        reference, command, target, actions = triplets.render(data, factors, random_state)
        output = np.asarray(compose(reference, command, actions), np.float32)
        errors[side + "_mse"] = float(np.mean((output - target) ** 2))
        rows = []
        for k in range(min(num_examples, len(target))):
            dim = int(factors.dim[k])
            row = visualize_util.padded_stack([visualize_util.to_rgb(image[k]) for image in
                                               (reference, command, target, output)], IMAGE_GAP_PX, axis=1)
            caption = "take {}: {} -> {}".format(data.factor_names[dim], int(factors.reference[k, dim]),
                                                 int(factors.target[k, dim]))
            rows.append(visualize_util.add_title(row, caption))
        block = visualize_util.padded_stack(rows, 6, axis=0)
        header = visualize_util.text_image("reference | command | target | output", block.shape[1])
        header = visualize_util.add_title(header, "MSE over {} triplets: {:.4f}".format(len(target),
                                                                                     errors[side + "_mse"]))
        header = visualize_util.add_title(header, label + " triplets")
        blocks.append(np.concatenate([header, block], axis=0))
    height = max(block.shape[0] for block in blocks)
    blocks = [np.concatenate([b, np.ones([height - b.shape[0]] + list(b.shape[1:]), b.dtype)]) for b in blocks]
    figure = visualize_util.padded_stack(blocks, BLOCK_GAP_PX, axis=1)
    title = "composition{}: each row is reference | command | target | output".format(
        "" if sampler.split_name is None else " (held-out split {!r})".format(sampler.split_name))
    visualize_util.save_image(visualize_util.pad_around(visualize_util.add_title(figure, title)), image_path)
    return errors
