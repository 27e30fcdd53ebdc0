"""The postprocessing stage (`dtl_postprocess`): turns a trained model into a representation module.

`<output_dir>/` receives:
  exported/representation.pt   TorchScript, images [B, H, W, C] in [0, 1] -> codes [B, D] (see representation.py),
  results/                     the model's records carried forward, plus those of step `postprocess`.
`postprocess_results` holds the reference's `elapsed_time` and `uuid`, and `model_dir`, the absolute path of the
model that was postprocessed (metrics that need the model itself, such as held_out_reconstruction, find it
there). A ground-truth decoder (`model.model = @gt_decoder()`) has no encoder: its representation is its input,
the factor indices scaled to [0, 1], and `postprocess_fn` is not called.
"""
import os
import time

import gin
import numpy as np

from dlib_torch.data.ground_truth import named_data
from dlib_torch.postprocessing import methods  # pylint: disable=unused-import (registers the methods)
from dlib_torch.postprocessing import representation
from dlib_torch.utils import auto_dataset
from dlib_torch.utils import device as device_lib
from dlib_torch.utils import exported_modules
from dlib_torch.utils import gin_utils
from dlib_torch.utils import output_dirs
from dlib_torch.utils import results
from dlib_torch.utils import validation
from dlib_torch.utils.errors import UserError

GT_DECODER_MODEL = "@gt_decoder()"


def postprocess_with_gin(model_dir, output_dir, overwrite=False, gin_config_files=None, gin_bindings=None):
    """Parses the gin files, then the bindings (errors name the culprit), runs `postprocess` on the trained model
    in `model_dir` into `output_dir` (e.g. `<out>/postprocessed/mean`), clears gin."""
    with gin_utils.configured(gin_config_files, gin_bindings):
        postprocess(model_dir, output_dir, overwrite)


@gin.configurable("postprocess", denylist=["model_dir", "output_dir", "overwrite"])
def postprocess(model_dir, output_dir, overwrite=False, postprocess_fn=gin.REQUIRED, random_seed=gin.REQUIRED,
                name=""):
    """Loads a trained Gaussian encoder, extracts the representation and exports it.

    Args:
      model_dir: directory of the trained model.
      output_dir: directory of the representation.
      overwrite: replace a finished `output_dir`.
      postprocess_fn: e.g. `@mean_representation` or `@sampled_representation` (see methods.py).
      random_seed: seed of the RandomState given to `postprocess_fn` (unused by mean and sampled).
      name: unused; names the representation in the records.
    """
    del name
    validation.check_int("postprocess.random_seed", random_seed, minimum=0, maximum=2**32 - 1)
    output_dirs.require_finished(model_dir, "train", "train the model first with dtl_train --model_dir={}".format(
        model_dir))
    with output_dirs.claim(output_dir, "postprocess", overwrite, inputs=[model_dir]):
        experiment_timer = time.time()
        auto_dataset.resolve(os.path.join(model_dir, "results", "gin", "train.gin"))
        dataset = named_data.get_named_ground_truth_data()

        encoder_path = exported_modules.exported_path(model_dir, exported_modules.GAUSSIAN_ENCODER)
        if os.path.exists(encoder_path):
            encoder = exported_modules.load(encoder_path)
            transform = postprocess_fn(dataset, _numpy_gaussian_encoder(encoder), np.random.RandomState(random_seed),
                                       output_dir)
            module = representation.GaussianRepresentation(encoder, transform)
        elif _trained_model(model_dir) == GT_DECODER_MODEL:
            module = representation.FactorRepresentation(dataset.factors_num_values)
        else:
            raise UserError("{} has no exported Gaussian encoder ({} is missing); retrain the model with "
                            "dtl_train --overwrite".format(model_dir, encoder_path))
        representation.save(module, exported_modules.exported_path(output_dir, exported_modules.REPRESENTATION))

        results_dict = {"elapsed_time": time.time() - experiment_timer, "model_dir": os.path.abspath(model_dir)}
        results.update_result_directory(os.path.join(output_dir, "results"), "postprocess", results_dict,
                                        os.path.join(model_dir, "results"))


def _numpy_gaussian_encoder(encoder):
    """The reference's `gaussian_encoder` argument: numpy images -> {"mean": ..., "logvar": ...}."""
    device = device_lib.select_device("auto")
    encode = exported_modules.numpy_function(encoder.to(device), device)

    def gaussian_encoder(images):
        mean, logvar = encode(images)
        return {"mean": mean, "logvar": logvar}

    return gaussian_encoder


def _trained_model(model_dir):
    """The `model.model` value recorded by training (e.g. "@vae()"), or None."""
    train_gin = os.path.join(model_dir, "results", "gin", "train.gin")
    return results.gin_dict(train_gin).get("model.model") if os.path.exists(train_gin) else None

