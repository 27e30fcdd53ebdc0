"""The `dataset.name` factory: builds a ground-truth data set from its disentanglement_lib name."""
import gin

from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import dsprites_variants
from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.utils.errors import UserError


def _procedural(latent_factor_indices=None):
    return dsprites_procedural.ProceduralDSprites(latent_factor_indices)


# name -> zero-argument builder. Builders import heavy or file-backed modules lazily and read the data
# root when called, never at import.
DATASETS = {
    "dsprites_procedural": _procedural,
    "dsprites_procedural_noshape": lambda: _procedural([2, 3, 4, 5]),
    "color_dsprites_procedural": lambda: dsprites_variants.ColorDSprites(_procedural()),
    "noisy_dsprites_procedural": lambda: dsprites_variants.NoisyDSprites(_procedural()),
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
