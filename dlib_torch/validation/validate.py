"""The validation stage (step `validation`): scores a postprocessed representation with a validation metric
on the fixed labelled set of semi-supervised training (disentanglement_lib's validation/validate.py).

The labelled set is drawn exactly as training drew it: RandomState(`validation.random_seed`, the supervised seed),
`validation.num_labelled_samples` observations, labelled by `labeller.labeller_fn`. `validation.validation_fn`
is one of `@mig_validation`, `@dci_validation`, `@sap_score_validation`, called with
(observations, labels [num_factors, N], representation_function). Writes `<output_dir>/results/` (the input's
records carried forward, plus `validation_*`).
"""
import os
import time

import gin

from dlib_torch.data.ground_truth import named_data
from dlib_torch.evaluation.metrics import dci  # pylint: disable=unused-import (registers dci_validation)
from dlib_torch.evaluation.metrics import mig  # pylint: disable=unused-import (registers mig_validation)
from dlib_torch.evaluation.metrics import sap_score  # pylint: disable=unused-import (registers sap_score_validation)
from dlib_torch.methods.semi_supervised import semi_supervised_utils
from dlib_torch.utils import auto_dataset
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import validation as checks


def validate_with_gin(model_dir, output_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Parses the gin files, then the bindings (errors name the culprit), runs `validate` on the representation in
    `model_dir` (`<out>/postprocessed/<name>`) into `output_dir`
    (`<out>/validation/<name>/<metric>_validation_<seed>_<n>`), clears gin."""
    with gin_utils.configured(gin_config_files, gin_bindings):
        validate(model_dir, output_dir, overwrite)


@gin.configurable("validation", denylist=["model_dir", "output_dir", "overwrite"])
def validate(model_dir, output_dir, overwrite=False, validation_fn=gin.REQUIRED, random_seed=gin.REQUIRED,
             num_labelled_samples=gin.REQUIRED, name=""):
    """Loads a representation module and scores it with `validation_fn` on the labelled set.

    Args:
      model_dir: directory of the postprocessed representation.
      output_dir: directory of the scores.
      overwrite: replace a finished `output_dir`.
      validation_fn: the validation metric, e.g. `@mig_validation`.
      random_seed: seed of the labelled set (the model's `supervised_data_seed`).
      num_labelled_samples: size of the labelled set.
      name: names the metric in the records.
    """
    del name
    checks.check_int("validation.random_seed", random_seed, minimum=0, maximum=2**32 - 1)
    num_labelled_samples = checks.check_int("validation.num_labelled_samples", num_labelled_samples, minimum=1)
    output_dirs.require_finished(model_dir, "postprocess", "postprocess the model first with dtl_postprocess "
                                 "--model_dir=<model> --output_dir={}".format(model_dir))
    with output_dirs.claim(output_dir, "validation", overwrite, inputs=[model_dir]):
        experiment_timer = time.time()
        auto_dataset.resolve(os.path.join(model_dir, "results", "gin", "postprocess.gin"))
        dataset = named_data.get_named_ground_truth_data()
        observations, labels, _ = semi_supervised_utils.sample_supervised_data(random_seed, dataset,
                                                                                num_labelled_samples)
        device = device_lib.select_device("auto")
        module = exported_modules.load(exported_modules.exported_path(model_dir, exported_modules.REPRESENTATION),
                                       device)
        representation_function = exported_modules.numpy_function(module, device)
        results_dict = validation_fn(observations, labels.T, representation_function)
        results_dict["elapsed_time"] = time.time() - experiment_timer
        results.update_result_directory(os.path.join(output_dir, "results"), "validation", results_dict,
                                        os.path.join(model_dir, "results"))
