"""Helpers shared by the data sets: the data root, index maps and latent/nuisance factor splits."""
import contextlib
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

from dlib_torch.utils.errors import MissingDataError
from dlib_torch.utils.errors import UserError


def data_root():
    """The data root, `$DISENTANGLEMENT_LIB_DATA` (default "."), read when a data set is built."""
    return os.environ.get("DISENTANGLEMENT_LIB_DATA", ".")


def require_file(path, dataset_name, data_dir=None):
    """Returns `path` if it exists, else raises a one-line error naming the file and the download command.

    `data_dir` is the data root the file was looked for in (default: `data_root()`).
    """
    if not os.path.exists(path):
        raise MissingDataError(
            "data set '{name}' needs {path}, which does not exist; fetch it with "
            "`dtl_download --dataset={name} --data_dir={root}` (or set DISENTANGLEMENT_LIB_DATA to the "
            "directory that holds it)".format(name=dataset_name, path=path, root=data_dir or data_root()))
    return path


class DamagedDataError(UserError):
    """A data file exists but cannot be read: the message names it and the command that replaces it."""


# What reading a damaged, truncated or foreign file raises, whatever its format (gzip.BadGzipFile, h5py's and
# PIL's errors are OSErrors; numpy's and scipy's are ValueErrors).
READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, zipfile.BadZipFile,
               pickle.UnpicklingError, zlib.error)


@contextlib.contextmanager
def reading(path, dataset_name, data_dir=None):
    """Turns a failure to read data file `path` into one line naming it and `dtl_download ... --force`.

    UserErrors pass unchanged, and so do OSErrors about another file or a permission (e.g. writing a cache).
    """
    try:
        yield
    except UserError:
        raise
    except READ_ERRORS as e:
        if isinstance(e, PermissionError) or (isinstance(e, OSError) and e.filename not in (None, path)):
            raise
        raise DamagedDataError(damaged_message(path, dataset_name, e, data_dir)) from e


def damaged_message(path, dataset_name, error, data_dir=None):
    """The one line for data file `path` of `dataset_name` that failed to read with `error`."""
    reason = " ".join("{}: {}".format(type(error).__name__, error).split())
    if len(reason) > 200:
        reason = reason[:197] + "..."
    return ("cannot read {} ({}); the file is damaged or incomplete: replace it with `dtl_download --dataset={} "
            "--data_dir={} --force`".format(path, reason, dataset_name, data_dir or data_root()))


def row_major_bases(factor_sizes):
    """Multipliers that map a factor-index tuple to its row in a row-major grid (last factor fastest)."""
    sizes = np.asarray(factor_sizes, dtype=np.int64)
    return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)


def factors_to_rows(factors, factor_sizes):
    """Row indices of factor-index tuples in a row-major grid over `factor_sizes`."""
    return np.asarray(factors, dtype=np.int64) @ row_major_bases(factor_sizes)


def rows_to_factors(rows, factor_sizes):
    """Inverse of `factors_to_rows`: int64 array [len(rows), len(factor_sizes)]."""
    return np.stack(np.unravel_index(np.asarray(rows, dtype=np.int64), tuple(factor_sizes)), axis=1).astype(np.int64)


def grid_of_row_major_labels(labels, path):
    """Factor sizes of a file whose rows carry factor labels [N, F] (indices or values) in row-major order.

    Raises a UserError naming `path` if the rows are not exactly the row-major enumeration of the grid.
    """
    labels = np.asarray(labels)
    values = [np.unique(labels[:, j]) for j in range(labels.shape[1])]
    grid = [len(v) for v in values]
    indices = np.stack([np.searchsorted(v, labels[:, j]) for j, v in enumerate(values)], axis=1)
    if int(np.prod(grid)) != labels.shape[0] or np.any(factors_to_rows(indices, grid) != np.arange(len(labels))):
        raise UserError("{}: the labels are not in row-major order over a grid of {} factor values".format(
            path, grid))
    return grid


class SplitDiscreteStateSpace:
    """State space whose factors are split into latent factors and nuisance ("observation") factors.

    Latent factors are what `sample_factors` returns; the nuisance factors are drawn uniformly when an
    observation is rendered, as in disentanglement_lib.
    """

    def __init__(self, factor_sizes, latent_factor_indices):
        self.factor_sizes = [int(s) for s in factor_sizes]
        self.num_factors = len(self.factor_sizes)
        self.latent_factor_indices = list(latent_factor_indices)
        self.observation_factor_indices = [
            i for i in range(self.num_factors) if i not in self.latent_factor_indices]

    @property
    def num_latent_factors(self):
        return len(self.latent_factor_indices)

    def sample_latent_factors(self, num, random_state):
        """Samples a batch of the latent factors."""
        factors = np.zeros((num, self.num_latent_factors), dtype=np.int64)
        for pos, i in enumerate(self.latent_factor_indices):
            factors[:, pos] = self._sample_factor(i, num, random_state)
        return factors

    def sample_all_factors(self, latent_factors, random_state):
        """Completes latent factors with uniformly drawn nuisance factors."""
        latent_factors = np.asarray(latent_factors, dtype=np.int64)
        num_samples = latent_factors.shape[0]
        all_factors = np.zeros((num_samples, self.num_factors), dtype=np.int64)
        all_factors[:, self.latent_factor_indices] = latent_factors
        for i in self.observation_factor_indices:
            all_factors[:, i] = self._sample_factor(i, num_samples, random_state)
        return all_factors

    def _sample_factor(self, i, num, random_state):
        return random_state.randint(self.factor_sizes[i], size=num)


class StateSpaceAtomIndex:
    """Index mapping from factor configurations to rows of a data array that covers the whole grid."""

    def __init__(self, factor_sizes, features):
        """`features` is a matrix whose row r holds the factor configuration of data row r."""
        self.factor_sizes = [int(s) for s in factor_sizes]
        num_total_atoms = int(np.prod(self.factor_sizes))
        self.factor_bases = row_major_bases(self.factor_sizes)
        feature_state_space_index = self._features_to_state_space_index(features)
        if np.unique(feature_state_space_index).size != num_total_atoms:
            raise ValueError("Features matrix does not cover the whole state space.")
        lookup_table = np.zeros(num_total_atoms, dtype=np.int64)
        lookup_table[feature_state_space_index] = np.arange(num_total_atoms)
        self.state_space_to_save_space_index = lookup_table

    def features_to_index(self, features):
        """Returns the data rows of the given factor configurations."""
        return self.state_space_to_save_space_index[self._features_to_state_space_index(features)]

    def _features_to_state_space_index(self, features):
        features = np.asarray(features, dtype=np.int64)
        if np.any(features >= np.expand_dims(self.factor_sizes, 0)) or np.any(features < 0):
            raise ValueError("Feature indices have to be within [0, factor_size-1]!")
        return features @ self.factor_bases
