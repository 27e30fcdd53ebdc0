"""The raw factor values of the data sets, as Montero et al.'s code feeds them to its ground-truth decoder
(notes §1 and §3.2): the stored `latents_values` / labels rather than the factor indices.

  dSprites   shape 1/2/3, scale linspace(0.5, 1, 6), orientation linspace(0, 2 pi, 40) in radians,
             posX and posY linspace(0, 1, 32)
  Shapes3D   hues 0, 0.1, ..., 0.9, scale linspace(0.75, 1.25, 8), shape 0..3, orientation linspace(-30, 30, 15)
  MPI3D      index * number of values (the paper's `target_transform = x * lat_sizes`, kept as it ran)
Other data sets have no published values; their factor index is the value.
"""
import numpy as np

from dlib_torch.data.ground_truth import dsprites_base
from dlib_torch.data.ground_truth import factor_names as names

_HUES = np.arange(10) / 10.0
_VALUES = {
    "dsprites": {"shape": np.array([1.0, 2.0, 3.0]), "scale": dsprites_base.SCALE_VALUES,
                 "orientation": dsprites_base.ORIENTATION_VALUES, "posX": dsprites_base.POSITION_VALUES,
                 "posY": dsprites_base.POSITION_VALUES},
    "shapes3d": {"floor_hue": _HUES, "wall_hue": _HUES, "object_hue": _HUES,
                 "scale": np.linspace(0.75, 1.25, 8), "shape": np.arange(4.0),
                 "orientation": np.linspace(-30.0, 30.0, 15)},
}


def _family(factor_names):
    if set(factor_names) <= set(names.DSPRITES) and factor_names:
        return "dsprites"
    if list(factor_names) == names.SHAPES3D:
        return "shapes3d"
    if list(factor_names) == names.MPI3D:
        return "mpi3d"
    return None


def raw_factor_values(factor_names, factors_num_values):
    """Per factor, a float array of its values in index order (see the module docstring)."""
    family = _family(list(factor_names))
    values = []
    for name, size in zip(factor_names, factors_num_values):
        known = _VALUES.get(family, {}).get(name)
        if family == "mpi3d":
            known = np.arange(size, dtype=np.float64) * size
        if known is None or len(known) != size:
            known = np.arange(size, dtype=np.float64)
        values.append(np.asarray(known, dtype=np.float64))
    return values
