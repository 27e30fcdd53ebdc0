"""Where training batches come from, and how they reach the device.

A `BatchSource` draws a batch in two halves. `draw_host(random_state)` makes every numpy draw, in the order
`model_batch` makes them, and returns CPU tensors; `to_device` moves them (from pinned memory without blocking
when a prefetch thread prepared them) and `finish` completes them. With `DeviceImages`, the data set's whole
uint8 image array lives on the device: the host half draws only factors and image rows, the device half
indexes them. Either way a batch holds the same values, bit for bit, as `model_batch` draws
(tests/methods/unsupervised/test_batches.py). prefetch.py runs the host half in a background thread.
"""
import os

from absl import logging
import numpy as np
import torch

from dlib_torch.utils import validation
from dlib_torch.utils.errors import ConfigError

# A data set is held on the device when its images take at most this fraction of the device's free memory.
DEVICE_MEMORY_FRACTION = 0.5
# Batches prepared ahead by the prefetch thread under `training_runtime.prefetch_batches = 'auto'` on CUDA.
AUTO_PREFETCH_BATCHES = 2
_LOAD_CHUNK_BYTES = 64 << 20


def model_batch(model, dataset, batch_size, random_state, device):
    """One training batch for `model`: its own `sample_batch(dataset, batch_size, random_state, device)` when it
    has one (pairs, triplets, labels: what its model_fn takes as `factors`), else `sample_batch`."""
    sampler = getattr(model, "sample_batch", None)
    if sampler is not None:
        return sampler(dataset, batch_size, random_state, device)
    return sample_batch(dataset, batch_size, random_state, model.needs_factors, device)


def sample_batch(dataset, batch_size, random_state, with_factors, device):
    """Draws one i.i.d. batch: (factors as int64 tensor or None, observations as float32 NHWC tensor)."""
    if with_factors:
        factors, observations = dataset.sample(batch_size, random_state)
        factors = torch.from_numpy(np.asarray(factors, dtype=np.int64)).to(device)
    else:
        factors, observations = None, dataset.sample_observations(batch_size, random_state)
    return factors, torch.from_numpy(np.asarray(observations, dtype=np.float32)).to(device)


class DeviceImages:
    """A data set's whole uint8 image array on a device; `observations(rows)` are float32 NHWC images, equal
    bit for bit to the host's: a 256-entry table maps each byte to the float the host computes for it."""

    def __init__(self, table, device):
        images = table.images
        row_shape = tuple(images.row_shape)
        self.images = torch.empty((images.num_rows,) + row_shape, dtype=torch.uint8, device=device)
        chunk = max(1, _LOAD_CHUNK_BYTES // max(1, int(np.prod(row_shape))))
        for start in range(0, images.num_rows, chunk):
            stop = min(images.num_rows, start + chunk)
            self.images[start:stop].copy_(torch.from_numpy(images.read(np.arange(start, stop))))
        # The host's arithmetic (ImageTable.observations) for each of the 256 byte values.
        byte_values = np.arange(256, dtype=np.uint8).astype(np.float32) / np.float32(table.divisor)
        self.byte_values = torch.from_numpy(byte_values).to(device)
        self.channel_axis = table.channel_axis

    def observations(self, rows):
        """float32 images of the int64 `rows` (a tensor on the device)."""
        images = self.byte_values[self.images[rows].long()]
        return images.unsqueeze(-1) if self.channel_axis else images


def image_bytes(table):
    """Bytes the image array of an ImageTable takes on a device (uint8, unpacked)."""
    return int(table.images.num_rows) * int(np.prod(table.images.row_shape))


def free_memory_bytes(device):
    """Free memory of `device`: the GPU's (torch.cuda.mem_get_info), else the host's MemAvailable."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def choose_device_images(setting, model, dataset, device):
    """DeviceImages for `training_runtime.data_on_device` ('auto': on CUDA when possible; True: required;
    False: never), or None for host-side batches. A True that cannot be met is a one-line ConfigError."""
    if setting is False or (setting == "auto" and device.type != "cuda"):
        return None
    table = dataset.image_table()
    if getattr(model, "sample_batch", None) is not None:
        reason = "the model draws its own batches (sample_batch)"
    elif table is None:
        reason = "the data set renders or transforms its images as it samples them (no stored image array)"
    else:
        needed, free = image_bytes(table), free_memory_bytes(device)
        reason = None
        if needed > DEVICE_MEMORY_FRACTION * free:
            reason = "its images take {:.2f} GiB, more than {:.0%} of the {:.2f} GiB free on {}".format(
                needed / 2**30, DEVICE_MEMORY_FRACTION, free / 2**30, device)
    if reason is not None:
        if setting is True:
            raise ConfigError("training_runtime.data_on_device = True cannot be met: {}; set it to 'auto' or "
                              "False".format(reason))
        logging.info("Training batches are drawn on the host: %s", reason)
        return None
    logging.info("Holding the data set's %d images (%.2f GiB) on %s", table.images.num_rows,
                 image_bytes(table) / 2**30, device)
    return DeviceImages(table, device)


def choose_prefetch(setting, model, device):
    """Batches the prefetch thread prepares ahead for `training_runtime.prefetch_batches` ('auto': 2 on CUDA,
    0 on the CPU). A model whose sample_batch reads or changes its own state (`sample_batch_uses_model_state`)
    draws in the main thread; asking it to prefetch is a one-line ConfigError."""
    batches = (AUTO_PREFETCH_BATCHES if device.type == "cuda" else 0) if setting == "auto" else setting
    if batches and getattr(model, "sample_batch_uses_model_state", False):
        if setting != "auto":
            raise ConfigError("training_runtime.prefetch_batches = {} is not possible for {}: its batches depend on "
                              "the model's own state, so they are drawn as it trains; set it to 0 or 'auto'".format(
                                  setting, validation.configurable_name(type(model))))
        batches = 0
    return batches


class BatchSource:
    """The training batches of one model and data set on one device (see the module docstring)."""

    def __init__(self, model, dataset, batch_size, device, device_images=None):
        self.model, self.dataset, self.batch_size = model, dataset, batch_size
        self.device = torch.device(device)
        self.device_images = device_images
        self.wait_seconds = 0.0  # time the loop waited for batches (the streams of prefetch.py add to it)
        self.batches_taken = 0

    def draw(self, random_state):
        """One batch on the device, drawn in the calling thread."""
        if self.device_images is None:
            return model_batch(self.model, self.dataset, self.batch_size, random_state, self.device)
        return self.finish(self.to_device(self.draw_host(random_state)))

    def draw_host(self, random_state):
        """The numpy draws of one batch, as CPU tensors (image rows instead of images with DeviceImages)."""
        if self.device_images is None:
            return model_batch(self.model, self.dataset, self.batch_size, random_state, torch.device("cpu"))
        factors = self.dataset.sample_factors(self.batch_size, random_state)
        rows = self.dataset.observation_rows(factors, random_state)
        factors = torch.from_numpy(np.asarray(factors, dtype=np.int64)) if self.model.needs_factors else None
        return factors, torch.from_numpy(np.asarray(rows, dtype=np.int64))

    def to_device(self, host_batch, non_blocking=False):
        """`host_batch` with every tensor on the device."""
        return map_tensors(lambda t: t.to(self.device, non_blocking=non_blocking), host_batch)

    def finish(self, batch):
        """A batch on the device as the model takes it: (factors or the model's extra, observations)."""
        if self.device_images is None:
            return batch
        factors, rows = batch
        return factors, self.device_images.observations(rows)


def map_tensors(fn, value):
    """`value` (a tensor, or tuples and lists of them, or None) with `fn` applied to every tensor."""
    if torch.is_tensor(value):
        return fn(value)
    if isinstance(value, (tuple, list)):
        return type(value)(map_tensors(fn, v) for v in value)
    return value
