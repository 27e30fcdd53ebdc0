"""What a metric receives from `dtl_evaluate`: the data set, the representation function, the model's directory.

Three ways to evaluate a representation module (postprocessing/representation.py), chosen per call:
  "cached"   deterministic data set and a Gaussian representation: a RowObservations view and a function that
             looks codes up in the process's CodeCache (code_cache.py);
  "factors"  a ground-truth decoder's representation, defined on factors: a RowObservations view and a
             function of the rows' factors;
  "direct"   otherwise (noisy or randomly coloured images, a user's module, `evaluation_runtime.cache_codes =
             False`): the data set itself, and the module run on its images in batches.
"""
import os

import torch

from dlib_torch.evaluation import code_cache
from dlib_torch.evaluation import row_observations
from dlib_torch.utils import exported_modules
from dlib_torch.evaluation import input_checks
from dlib_torch.utils import results
from dlib_torch.utils.errors import UserError


def metric_inputs(data, module, random_seed, device, runtime):
    """(ground_truth_data, representation_function, mode) for evaluating `module` on `data`.

    `runtime` carries cache_codes, encode_batch_size, fill_grid_fraction and max_cache_megabytes
    (gin `evaluation_runtime`). Sampled representations draw their noise from torch generators seeded with
    `random_seed`: a dedicated one when cached, torch's global one (seeded by the caller) when direct.
    """
    if hasattr(module, "from_factors"):
        view = row_observations.RowObservations(data)
        return view, code_cache.factor_representation_function(view, module, device), "factors"
    if runtime.cache_codes and can_cache(data, module):
        cache = code_cache.shared_cache(data, module, device, runtime.encode_batch_size,
                                        runtime.fill_grid_fraction, runtime.max_cache_megabytes * 2**20,
                                        optimized=getattr(runtime, "mode", "parity") == "fast")
        noise_generator = torch.Generator().manual_seed(int(random_seed))
        return (row_observations.RowObservations(data),
                code_cache.cached_representation_function(cache, module, noise_generator, device), "cached")
    return data, exported_modules.numpy_function(module, device, runtime.encode_batch_size), "direct"


def can_cache(data, module):
    """Whether codes of `data` may be cached for `module`: deterministic images rendered without random draws,
    and a module that exports its Gaussian encoder and transform separately."""
    return (bool(getattr(data, "observations_are_deterministic", False))
            and all(hasattr(module, name) for name in ("encoder", "gaussian_encoder", "from_gaussian"))
            and not row_observations.consumes_random_state(data))


def trained_model_dir(input_dir):
    """The directory of the trained model that the postprocessed representation in `input_dir` came from.

    Tried in order: the `model_dir` recorded in `postprocess_results`, then the layout of dtl_reproduce,
    `<out>/postprocessed/<name>` -> `<out>/model`. A candidate counts only if its finished training records
    carry the same uuid as the training records copied into `input_dir`.
    """
    expected_uuid = _train_uuid(input_dir)
    candidates = input_checks.trained_model_candidates(input_dir)
    for candidate in candidates:
        if results.step_finished(candidate, "train") and _train_uuid(candidate) == expected_uuid:
            return candidate
    raise UserError("cannot find the trained model of {}: none of {} holds the finished training it was "
                    "postprocessed from (train uuid {}); keep the model directory where dtl_postprocess found it "
                    "or at <out>/model beside <out>/postprocessed".format(input_dir, ", ".join(candidates),
                                                                          expected_uuid))


def _train_uuid(directory):
    return _load_json(os.path.join(directory, "results", "json", "train_results.json")).get("uuid")


def _load_json(path):
    if not os.path.exists(path):
        return {}
    return results.load_record(path)
