"""Encoder outputs of a deterministic data set, computed once per observation and shared by every metric.

The study's protocol asks about three million codes of each representation (the BetaVAE score alone
encodes 1.92 M images per representation), yet dSprites has only 737,280 distinct images. When observations
are a fixed function of the factors (`observations_are_deterministic`), a `CodeCache` stores the encoder's
mean and log-variance for each row of the factor grid (`util.factors_to_rows`), and the metrics run on a
`RowObservations` view whose observations are row ids:

  * a lookup encodes the rows not yet cached, rendering their images from the real data set and encoding them
    in batches of `encode_batch_size` whatever the metric's batch size; once `fill_grid_fraction` of the
    grid has been encoded on demand, the rest of the grid is encoded in one sweep of large batches;
  * the representation is computed from the cached Gaussian by the exported module's own transform
    (`from_gaussian`), so the mean representation equals direct encoding, and the sampled one draws fresh
    noise for every row of every call, from a torch generator the caller seeds (dtl_evaluate:
    `evaluation.random_seed`, the seed of torch's global generator when it encodes directly).

Sharing ("per evaluation run"): caches live in this process, keyed by a fingerprint of the encoder's parameters
and of the data set (its factor sizes, observation shape and a few rendered images). Every `evaluate_with_gin`
call of one process therefore shares them: the 9 metrics × mean and sampled representations of one model in
`dtl_reproduce` or `dtl_evaluate --gin_evaluation_config_glob` encode each image at most once (the mean and the
sampled representation have the same encoder). The `MAX_CACHES` most recently used caches are kept. There is
no cache on disk: dSprites' codes take 59 MB per model, which over a study of 12,600 models would be 0.7 TB.
"""
import collections
import hashlib

from absl import logging
import numpy as np
import torch

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.data.ground_truth import util
from dlib_torch.utils import progress

MAX_CACHES = 2
# Rows rendered per call: procedural dSprites renders 72,000 images/s in batches of 1,024 but 11,000/s in
# batches of 128 (the CPU encoding batch), so images are rendered in chunks and encoded in the encoder's batches.
RENDER_ROWS = 4096
FINGERPRINT_ROWS = 8
_CACHES = collections.OrderedDict()  # (encoder fingerprint, data fingerprint) -> CodeCache


class CodeCache:
    """Means and log-variances [num_rows, D] of an encoder over a deterministic data set's factor grid.

    If the arrays would exceed `max_bytes`, nothing is stored: each lookup encodes its distinct rows, which
    costs what direct encoding costs.
    """

    def __init__(self, data, gaussian_encoder, encode_batch_size=1024, fill_grid_fraction=0.25,
                 max_bytes=2 * 2**30):
        """`gaussian_encoder` maps float32 images [B, H, W, C] to numpy (mean, logvar), each [B, D]."""
        self.data = data
        self.gaussian_encoder = gaussian_encoder
        self.encode_batch_size = int(encode_batch_size)
        self.fill_grid_fraction = fill_grid_fraction
        self.max_bytes = max_bytes
        self.factor_sizes = [int(size) for size in data.factors_num_values]
        self.num_rows = ground_truth_data.factor_grid_size(data)
        self.filled = np.zeros(self.num_rows, dtype=bool)
        self.mean = self.logvar = None
        self.storing = True
        self.rows_encoded = 0
        self.encoder_calls = 0
        self.rows_looked_up = 0

    def lookup(self, rows):
        """(mean, logvar) [len(rows), D] of factor-row ids, encoding the rows not yet cached."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        self.rows_looked_up += rows.size
        if not self.storing:
            distinct, inverse = np.unique(rows, return_inverse=True)
            mean, logvar = self.encode_rows(distinct)
            return mean[inverse], logvar[inverse]
        missing = np.unique(rows[~self.filled[rows]])
        if missing.size:
            mean, logvar = self.encode_rows(missing)
            if not self.storing:  # the first encoding found the arrays too large; every row was missing
                position = np.searchsorted(missing, rows)
                return mean[position], logvar[position]
            if self._fill_due():
                self.encode_rows(np.flatnonzero(~self.filled))
        return self.mean[rows], self.logvar[rows]

    def encode_rows(self, rows):
        """Renders rows in chunks of at least RENDER_ROWS (rendering per image is cheaper in large batches) and
        encodes them in batches of `encode_batch_size`; stores them, and returns (mean, logvar)."""
        render_state = np.random.RandomState(0)  # deterministic data sets draw nothing from it
        means, logvars = [], []
        chunk_size = self.encode_batch_size * max(1, RENDER_ROWS // self.encode_batch_size)
        with progress.Progress("encoding images", total=int(rows.size), unit="images") as bar:
            for start in range(0, rows.size, chunk_size):
                chunk = rows[start:start + chunk_size]
                images = self.data.sample_observations_from_factors(util.rows_to_factors(chunk, self.factor_sizes),
                                                                    render_state)
                mean, logvar = self.gaussian_encoder(np.asarray(images, dtype=np.float32))
                self.encoder_calls += -(-chunk.size // self.encode_batch_size)
                self.rows_encoded += chunk.size
                self._store(chunk, mean, logvar)
                means.append(mean)
                logvars.append(logvar)
                bar.update(int(chunk.size))
        return np.concatenate(means), np.concatenate(logvars)

    def statistics(self):
        """Counts of the cache's work: grid rows, rows encoded, encoder calls and rows looked up."""
        return {"rows": self.num_rows, "rows_encoded": int(self.rows_encoded),
                "encoder_calls": int(self.encoder_calls), "rows_looked_up": int(self.rows_looked_up)}

    def _store(self, rows, mean, logvar):
        if self.storing and self.mean is None:
            if 4 * self.num_rows * (mean.shape[1] + logvar.shape[1]) > self.max_bytes:
                self.storing = False
                return
            self.mean = np.empty((self.num_rows, mean.shape[1]), dtype=np.float32)
            self.logvar = np.empty((self.num_rows, logvar.shape[1]), dtype=np.float32)
        if self.storing:
            self.mean[rows], self.logvar[rows] = mean, logvar
            self.filled[rows] = True

    def _fill_due(self):
        return (self.storing and self.fill_grid_fraction is not None
                and self.rows_encoded >= self.fill_grid_fraction * self.num_rows and not self.filled.all())


def gaussian_encoder_function(module, device, batch_size, optimized=False):
    """numpy images -> numpy (mean, logvar) through an exported representation's `gaussian_encoder`, or with
    `optimized` (the fast evaluation mode) through `optimized_encoder`'s frozen copy of it."""
    encoder = optimized_encoder(module, device) if optimized else None
    if encoder is None:
        encoder = module.gaussian_encoder

    def encode(images):
        means, logvars = [], []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                mean, logvar = encoder(torch.from_numpy(images[start:start + batch_size]).to(device))
                means.append(mean.cpu().numpy())
                logvars.append(logvar.cpu().numpy())
        return np.concatenate(means), np.concatenate(logvars)
    return encode


def optimized_encoder(module, device):
    """The module's encoder frozen and optimised for CPU inference by TorchScript (`torch.jit.freeze` +
    `optimize_for_inference`: convolutions fused with their activations, weights prepacked for oneDNN), or None
    where that does not apply (CUDA, an encoder TorchScript cannot freeze). Measured here on the study's conv
    encoder: 2.6x the images/s of the exported module on one thread; codes differ from it by about 1e-8."""
    if device.type != "cpu" or not isinstance(getattr(module, "encoder", None), torch.jit.ScriptModule):
        return None
    try:
        return torch.jit.optimize_for_inference(torch.jit.freeze(module.encoder.eval()))
    except Exception as error:  # pylint: disable=broad-except (any encoder TorchScript cannot freeze)
        logging.warning("The fast mode encodes with the exported encoder as it is: TorchScript could not freeze "
                        "it (%s)", str(error).splitlines()[0] if str(error) else type(error).__name__)
        return None


def cached_representation_function(cache, module, noise_generator, device):
    """Factor-row ids -> codes [B, D]: the cached Gaussian through the module's transform.

    A random transform gets standard normal noise [B, D] drawn from `noise_generator` on every call.
    """
    uses_noise = bool(module.uses_noise)

    def representation_function(rows):
        mean, logvar = cache.lookup(rows)
        mean, logvar = torch.from_numpy(mean), torch.from_numpy(logvar)
        noise = torch.randn(mean.shape, generator=noise_generator) if uses_noise else None
        with torch.no_grad():
            codes = module.from_gaussian(mean.to(device), logvar.to(device),
                                         None if noise is None else noise.to(device))
        return codes.cpu().numpy()
    return representation_function


def factor_representation_function(view, module, device):
    """Factor-row ids -> codes of a representation defined on factors (a ground-truth decoder's)."""
    def representation_function(rows):
        factors = torch.from_numpy(view.rows_to_factors(rows))
        with torch.no_grad():
            return module.from_factors(factors.to(device)).cpu().numpy()
    return representation_function


def shared_cache(data, module, device, encode_batch_size=1024, fill_grid_fraction=0.25, max_bytes=2 * 2**30,
                 optimized=False):
    """The process's cache for the encoder of `module` and for `data`, created if needed.

    The caller must have checked that `data` is deterministic and renders without drawing random numbers.
    `optimized` (the fast evaluation mode) encodes through `optimized_encoder`, in a cache of its own.
    """
    key = (encoder_fingerprint(module), data_fingerprint(data), bool(optimized))
    encoder = gaussian_encoder_function(module, device, encode_batch_size, optimized)
    if key in _CACHES:
        _CACHES.move_to_end(key)
        cache = _CACHES[key]
        cache.gaussian_encoder = encoder  # the same parameters, on this call's device
        cache.encode_batch_size, cache.fill_grid_fraction = int(encode_batch_size), fill_grid_fraction
        return cache
    cache = CodeCache(data, encoder, encode_batch_size, fill_grid_fraction, max_bytes)
    _CACHES[key] = cache
    while len(_CACHES) > MAX_CACHES:
        _CACHES.popitem(last=False)
    return cache


def cache_statistics():
    """Statistics of the caches alive in this process, most recently used last."""
    return [cache.statistics() for cache in _CACHES.values()]


def clear():
    """Drops every cache of this process."""
    _CACHES.clear()


def encoder_fingerprint(module):
    """Hash of the encoder inside an exported representation: its code and its parameters (not buffers)."""
    digest = hashlib.sha1()
    encoder = module.encoder
    digest.update(str(getattr(encoder, "code", "")).encode())
    for name, parameter in sorted(encoder.named_parameters()):
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def data_fingerprint(data):
    """Hash of what the cache depends on: factor sizes, observation shape and images at fixed rows."""
    digest = hashlib.sha1()
    sizes = [int(size) for size in data.factors_num_values]
    digest.update(repr((sizes, list(np.atleast_1d(data.observation_shape)))).encode())
    num_rows = ground_truth_data.factor_grid_size(data)
    rows = np.unique(np.linspace(0, num_rows - 1, FINGERPRINT_ROWS).astype(np.int64))
    images = data.sample_observations_from_factors(util.rows_to_factors(rows, sizes), np.random.RandomState(0))
    digest.update(np.ascontiguousarray(images, dtype=np.float32).tobytes())
    return digest.hexdigest()
