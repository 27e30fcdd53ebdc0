"""The `dataset.name` factory: builds a ground-truth data set from its disentanglement_lib name."""
import gin

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import dsprites_variants
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.utils.errors import UserError


def _procedural(latent_factor_indices=None):
    return dsprites_procedural.ProceduralDSprites(latent_factor_indices)


def _dsprites(name, latent_factor_indices=None):
    from dlib_torch.data.ground_truth import dsprites
    return dsprites.DSprites(latent_factor_indices, name=name)


def _scream(name):
    from dlib_torch.data.ground_truth import dsprites
    return dsprites.load_scream(dataset_name=name)


def _smallnorb():
    from dlib_torch.data.ground_truth import norb
    return norb.SmallNORB()


def _cars3d():
    from dlib_torch.data.ground_truth import cars3d
    return cars3d.Cars3D()


def _mpi3d(mode):
    from dlib_torch.data.ground_truth import mpi3d
    return mpi3d.MPI3D(mode)


def _shapes3d():
    from dlib_torch.data.ground_truth import shapes3d
    return shapes3d.Shapes3D()


# name -> zero-argument builder. Builders import heavy or file-backed modules lazily and read the data
# root when called, never at import.
DATASETS = {
    "dsprites_full": lambda: _dsprites("dsprites_full", [1, 2, 3, 4, 5]),
    "dsprites_noshape": lambda: _dsprites("dsprites_noshape", [2, 3, 4, 5]),
    "color_dsprites": lambda: dsprites_variants.ColorDSprites(_dsprites("color_dsprites")),
    "noisy_dsprites": lambda: dsprites_variants.NoisyDSprites(_dsprites("noisy_dsprites")),
    "scream_dsprites": lambda: dsprites_variants.ScreamDSprites(
        _dsprites("scream_dsprites"), _scream("scream_dsprites")),
    # Registered here, unlike in disentanglement_lib: orientation is a nuisance factor of the base.
    "abstract_dsprites": lambda: dsprites_variants.AbstractDSprites(
        _dsprites("abstract_dsprites", [1, 2, 4, 5])),
    "smallnorb": _smallnorb,
    "cars3d": _cars3d,
    "mpi3d_toy": lambda: _mpi3d("mpi3d_toy"),
    "mpi3d_realistic": lambda: _mpi3d("mpi3d_realistic"),
    "mpi3d_real": lambda: _mpi3d("mpi3d_real"),
    "shapes3d": _shapes3d,
    "dsprites_procedural": _procedural,
    "dsprites_procedural_noshape": lambda: _procedural([2, 3, 4, 5]),
    "color_dsprites_procedural": lambda: dsprites_variants.ColorDSprites(_procedural()),
    "noisy_dsprites_procedural": lambda: dsprites_variants.NoisyDSprites(_procedural()),
    "scream_dsprites_procedural": lambda: dsprites_variants.ScreamDSprites(
        _procedural(), _scream("scream_dsprites_procedural")),
    "abstract_dsprites_procedural": lambda: dsprites_variants.AbstractDSprites(_procedural([1, 2, 4, 5])),
    "dummy_data": dummy_data.DummyData,
    "identity_observations": dummy_data.IdentityObservationsData,
}


def dataset_names():
    """All registered data set names, sorted."""
    return sorted(DATASETS)


@gin.configurable("dataset", denylist=[])
def get_named_ground_truth_data(name=gin.REQUIRED):
    """Returns the ground-truth data set called `name` (`dataset.name` in gin)."""
    if name == "auto":
        raise UserError("dataset.name is 'auto' but no trained model was given to resolve it from")
    if name not in DATASETS:
        raise UserError("unknown dataset '{}'; valid names: {}".format(name, ", ".join(dataset_names())))
    return DATASETS[name]()
