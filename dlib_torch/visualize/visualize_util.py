"""Image grids, animations and factor/latent cycles used by the visualisations.

Images are float arrays [H, W, C] in [0, 1] with C in {1, 3}; they are converted to 8-bit RGB once, on
saving, so GIFs keep their colour and contrast whatever the imaging library's defaults. Animation panels
can carry a label (which latent or factor they show), and every animation frame has a footer with the
frame's number.
"""
import math

import numpy as np
import scipy.stats
from PIL import Image
from PIL import ImageDraw

from dlib_torch.utils import atomic

FOOTER_TEXT = "dlib_torch"
LABEL_HEIGHT_PX = 14  # height of the text strips: panel labels, footers, titles


def to_rgb(image):
    """[H, W] or [H, W, {1,3}] floats -> [H, W, 3] floats (grey images repeated over the channels)."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.shape[2] != 3:
        raise ValueError("images must have 1 or 3 channels, not {}".format(image.shape[2]))
    return image


def to_uint8_rgb(image):
    """[H, W, {1,3}] floats in [0, 1] -> [H, W, 3] uint8."""
    return (np.clip(to_rgb(image), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def save_image(image, image_path):
    """Saves a [0,1]-valued [H, W, {1,3}] array as an image file (format from the extension)."""
    fmt = image_path.rsplit(".", 1)[-1].upper().replace("JPG", "JPEG")
    with atomic.atomic_path(image_path) as tmp:
        Image.fromarray(to_uint8_rgb(image), mode="RGB").save(tmp, format=fmt)


def grid_save_images(images, image_path, padding_px=0):
    """Saves images on a square grid of side floor(sqrt(n)); each grid column is a vertical stack, the cells
    `padding_px` white pixels apart (0: touching, as the reference)."""
    side_length = int(math.floor(math.sqrt(len(images))))
    columns = [padded_stack(images[side_length * i:side_length * (i + 1)], padding_px, axis=0)
               for i in range(side_length)]
    save_image(padded_stack(columns, padding_px, axis=1), image_path)


def padding_array(image, padding_px, axis):
    """A white block that pads `image` by `padding_px` along `axis`."""
    shape = list(image.shape)
    shape[axis] = padding_px
    return np.ones(shape, dtype=image.dtype)


def padded_stack(images, padding_px=10, axis=0):
    """Stacks images along `axis` with white padding in between."""
    parts = [images[0]]
    for image in images[1:]:
        parts += [padding_array(images[0], padding_px, axis), image]
    return np.concatenate(parts, axis=axis)


def best_num_rows(num_elements, max_ratio=4):
    """A number of grid rows that leaves few empty cells and keeps the grid roughly square."""
    best_remainder = num_elements
    best_i = None
    i = int(np.sqrt(num_elements))
    while True:
        if num_elements > max_ratio * i * i:
            return best_i
        remainder = (i - num_elements % i) % i
        if remainder == 0:
            return i
        if remainder < best_remainder:
            best_remainder = remainder
            best_i = i
        i -= 1


def padded_grid(images, num_rows=None, padding_px=10):
    """A grid of images with white padding; missing cells are white."""
    num_images = len(images)
    if num_rows is None:
        num_rows = best_num_rows(num_images)
    num_cols = int(np.ceil(float(num_images) / num_rows))
    all_images = list(images) + [np.ones_like(images[0])] * (num_rows * num_cols - num_images)
    rows = [padded_stack(all_images[i * num_cols:(i + 1) * num_cols], padding_px, 1) for i in range(num_rows)]
    return padded_stack(rows, padding_px, axis=0)


def pad_around(image, padding_px=10, axis=None):
    """Adds white padding around an image (both axes when `axis` is None)."""
    if axis is None:
        image = pad_around(image, padding_px, axis=0)
        axis = 1
    padding = padding_array(image, padding_px, axis)
    return np.concatenate([padding, image, padding], axis=axis)


def text_width(text):
    """Width in pixels of `text` in PIL's built-in font."""
    return ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(text)


def text_image(text, width, height=LABEL_HEIGHT_PX, align="left"):
    """A white [height, width, 3] strip with black text, drawn with PIL's built-in font."""
    strip = Image.new("RGB", (max(int(width), 1), height), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    if align == "left":
        x = 0
    elif align == "center":
        x = max(int((width - draw.textlength(text)) / 2), 0)
    else:
        x = max(int(width - draw.textlength(text)), 0)
    draw.text((x, 1), text, fill=(0, 0, 0))
    return np.asarray(strip, dtype=np.float32) / 255.0


def add_below(image, padding_px=10, footer_text=FOOTER_TEXT):
    """Adds a text footer below an image (made RGB)."""
    image = to_rgb(image)
    footer = text_image(footer_text, image.shape[1], align="right")
    return padded_stack([image, footer], padding_px, axis=0)


def add_column_labels(image, label_lines, column_width):
    """Adds lines of text above an image (made RGB), one label per column of `column_width` pixels in each
    line, centred over its column (e.g. ["z0", "z1", ...] and ["KL 2.31", "KL 0.01", ...]). The header is
    padded to a multiple of 8 pixels, so a JPEG's 8x8 blocks do not straddle it and the images below."""
    image = to_rgb(image)
    strips = [np.concatenate([text_image(label, column_width, align="center") for label in labels], axis=1)
              for labels in label_lines]
    header = np.concatenate(strips, axis=0)
    header = np.concatenate([header, padding_array(header, -header.shape[0] % 8, axis=0)], axis=0)
    return np.concatenate([header, image], axis=0)


def add_title(image, title, align="left"):
    """Adds a line of text above an image (made RGB), with no padding in between."""
    image = to_rgb(image)
    return np.concatenate([text_image(title, image.shape[1], align=align), image], axis=0)


def animation_frames(list_of_animated_images, panel_labels=None, footer_text=FOOTER_TEXT):
    """The frames of an animation: frame t shows element t of every sequence in a padded grid.

    Each panel gets its label (e.g. "z3") above it when `panel_labels` is given; each frame gets a footer
    with `footer_text` and the frame number "t/T". The numbers also keep consecutive frames distinct, so
    GIF writers, which merge identical frames, write every frame.
    """
    sequences = [np.asarray(sequence) for sequence in list_of_animated_images]
    if panel_labels is not None and len(panel_labels) != len(sequences):
        raise ValueError("{} panel labels for {} panels".format(len(panel_labels), len(sequences)))
    num_frames = len(sequences[0])
    label_strips = None
    if panel_labels is not None:
        width = sequences[0].shape[2]
        label_strips = [text_image(label, width, align="center") for label in panel_labels]
    frames = []
    for t in range(num_frames):
        panels = [to_rgb(sequence[t]) for sequence in sequences]
        if label_strips is not None:
            panels = [np.concatenate([strip, panel], axis=0) for strip, panel in zip(label_strips, panels)]
        grid = padded_grid(panels)
        counter = "{}/{}".format(t + 1, num_frames)
        footer = "{}  {}".format(footer_text, counter) if footer_text else counter
        if text_width(footer) > grid.shape[1]:
            footer = counter
        frames.append(pad_around(add_below(grid, footer_text=footer)))
    return frames


def animation_panel_boxes(num_panels, panel_shape, labelled=True, padding_px=10):
    """Where `animation_frames` puts each panel's image: (top, left, height, width) per panel, in order."""
    height, width = panel_shape[:2]
    label_px = LABEL_HEIGHT_PX if labelled else 0
    num_cols = int(np.ceil(float(num_panels) / best_num_rows(num_panels)))
    boxes = []
    for index in range(num_panels):
        row, col = divmod(index, num_cols)
        top = padding_px + row * (label_px + height + padding_px) + label_px
        left = padding_px + col * (width + padding_px)
        boxes.append((top, left, height, width))
    return boxes


def save_animation(list_of_animated_images, image_path, fps, panel_labels=None):
    """Saves an animated GIF of `animation_frames` (one panel per sequence, optional labels, footer).

    Args:
      list_of_animated_images: sequences (one per panel) of frames [H, W, C] in [0, 1].
      image_path: the .gif path.
      fps: frames per second.
      panel_labels: optional text above each panel, e.g. ["z0", "z1", ...].
    """
    save_gif(animation_frames(list_of_animated_images, panel_labels), image_path, fps)


def save_gif(frames, image_path, fps):
    """Writes [0,1]-valued frames as a looping GIF, atomically.

    Grey frames are written exactly (8-bit greyscale). Colour frames share one 256-colour palette fitted
    to all of them (no dithering), so what stays still in the animation keeps its colour in every frame.
    """
    frames = [to_uint8_rgb(frame) for frame in frames]
    if all(np.array_equal(f[:, :, 0], f[:, :, 1]) and np.array_equal(f[:, :, 0], f[:, :, 2]) for f in frames):
        pil_frames = [Image.fromarray(np.ascontiguousarray(f[:, :, 0]), mode="L") for f in frames]
    else:
        palette = Image.fromarray(np.concatenate(frames, axis=0), mode="RGB").quantize(
            256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        pil_frames = [Image.fromarray(f, mode="RGB").quantize(palette=palette, dither=Image.Dither.NONE)
                      for f in frames]
    with atomic.atomic_path(image_path) as tmp:
        pil_frames[0].save(tmp, format="GIF", save_all=True, append_images=pil_frames[1:],
                           duration=int(round(1000.0 / fps)), loop=0, optimize=False)


def cycle_factor(starting_index, num_indices, num_frames):
    """Indices that walk once through a factor's values, up and back, starting at `starting_index`."""
    grid = np.linspace(starting_index, starting_index + 2 * num_indices, num=num_frames, endpoint=False)
    grid = np.array(np.ceil(grid), dtype=np.int64)
    grid -= np.maximum(0, 2 * grid - 2 * num_indices + 1)
    grid += np.maximum(0, -2 * grid - 1)
    return grid


def cycle_gaussian(starting_value, num_frames, loc=0., scale=1.):
    """Values that cycle once through the quantiles of a Gaussian (a triangle wave in CDF space)."""
    starting_prob = scipy.stats.norm.cdf(starting_value, loc=loc, scale=scale)
    grid = np.linspace(starting_prob, starting_prob + 2., num=num_frames, endpoint=False)
    grid -= np.maximum(0, 2 * grid - 2)
    grid += np.maximum(0, -2 * grid)
    grid = np.clip(grid, 0.001, 0.999)
    return scipy.stats.norm.ppf(grid, loc=loc, scale=scale)


def cycle_interval(starting_value, num_frames, min_val, max_val):
    """Values that cycle once through [min_val, max_val] (a triangle wave) from `starting_value`.

    An empty interval (min_val == max_val, e.g. a latent that never varies) gives a constant, where the
    reference divided by zero.
    """
    if max_val == min_val:
        return np.full(num_frames, float(min_val))
    starting_in_01 = (starting_value - min_val) / (max_val - min_val)
    grid = np.linspace(starting_in_01, starting_in_01 + 2., num=num_frames, endpoint=False)
    grid -= np.maximum(0, 2 * grid - 2)
    grid += np.maximum(0, -2 * grid)
    return grid * (max_val - min_val) + min_val
