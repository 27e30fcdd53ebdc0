"""Getting started with dlib_torch: train a standard model and your own (disentanglement_lib's example.py).

Run:  python -m dlib_torch.examples.example [OUTPUT_DIR]   (default: example_output)

1. Train a beta-VAE configured in model.gin.
2. Train a custom model: subclass `BaseVAE`, override its regulariser, register it with gin.
3. Load both exported encoders with plain `torch.jit.load` and compute mean representations.
The trained models are ordinary model directories: `dtl_postprocess` and `dtl_evaluate` take them from there.
"""
import os
import sys

import gin
import numpy as np
import torch

from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.unsupervised import train
from dlib_torch.methods.unsupervised import vae

MODEL_GIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.gin")


@gin.configurable("BottleneckVAE")  # lets gin files refer to it as @BottleneckVAE()
class BottleneckVAE(vae.BaseVAE):
    """A VAE whose loss is reconstruction + gamma * |KL(q(z|x) || p(z)) - target|."""

    def __init__(self, gamma=gin.REQUIRED, target=gin.REQUIRED):
        super().__init__()
        self.gamma = gamma
        self.target = target

    def regularizer(self, kl_loss, z_mean, z_logvar, z_sampled):
        # This is all a new model needs: BaseVAE does the encoding, sampling, decoding and reconstruction loss.
        del z_mean, z_logvar, z_sampled
        return self.gamma * torch.abs(kl_loss - self.target)


def main(base_path="example_output", overwrite=False):
    # 1. A standard beta-VAE. Rerunning skips a finished model (pass overwrite=True to retrain).
    path_vae = os.path.join(base_path, "vae")
    train.train_with_gin(os.path.join(path_vae, "model"), overwrite, [MODEL_GIN])

    # 2. The custom model: the same training protocol, with gin bindings that select it.
    path_custom_vae = os.path.join(base_path, "BottleneckVAE")
    gin_bindings = ["model.model = @BottleneckVAE()", "BottleneckVAE.gamma = 4", "BottleneckVAE.target = 10."]
    train.train_with_gin(os.path.join(path_custom_vae, "model"), overwrite, [MODEL_GIN], gin_bindings)

    # 3. The exported encoders map NHWC images in [0, 1] to (mean, logvar); the mean is the usual representation.
    gin.parse_config("dataset.name = 'dsprites_procedural'")
    observations = named_data.get_named_ground_truth_data().sample_observations(8, np.random.RandomState(0))
    gin.clear_config()
    for path in [path_vae, path_custom_vae]:
        encoder = torch.jit.load(os.path.join(path, "model", "exported", "gaussian_encoder.pt"))
        with torch.no_grad():
            mean, _ = encoder(torch.from_numpy(observations))
        print("{}: mean representation of {} images has shape {}".format(path, len(observations), tuple(mean.shape)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "example_output")
