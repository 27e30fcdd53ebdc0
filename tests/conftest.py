"""Shared fixtures. Tests import the installed dlib_torch (pytest runs with --import-mode=importlib)."""
import os

# pytest runs two workers on two cores; one thread per process (and per subprocess, which inherits the
# environment) avoids oversubscribing the cores, which slows torch and BLAS several-fold.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlib_torch.data.ground_truth import dsprites_procedural  # noqa: E402
from dlib_torch.data.ground_truth import ground_truth_data  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_data_root(tmp_path, monkeypatch):
    """Every test gets its own empty data root, so no test reads or writes real data by accident."""
    monkeypatch.setenv("DISENTANGLEMENT_LIB_DATA", str(tmp_path / "data"))
    yield


# A tiny model of the real training stage on procedural dSprites (deterministic images), for the stages after it.
TINY_MODEL_BINDINGS = [
    "dataset.name = 'dsprites_procedural'", "model.model = @vae()", "vae.beta = 1.",
    "vae_optimizer.optimizer_fn = @AdamOptimizer", "model.batch_size = 8", "model.training_steps = 20",
    "model.eval_steps = 1", "model.random_seed = 0", "encoder.num_latent = 4", "encoder.encoder_fn = @test_encoder",
    "decoder.decoder_fn = @test_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Factory: `tiny_model(*bindings)` trains (once per session) a tiny model with `train_with_gin`, the
    bindings added to TINY_MODEL_BINDINGS, and returns its directory `<tmp>/model`. Do not write into it."""
    trained = {}

    def make(*extra_bindings):
        if extra_bindings not in trained:
            from dlib_torch.methods.unsupervised import train
            model_dir = tmp_path_factory.mktemp("tiny") / "model"
            train.train_with_gin(str(model_dir), False, [], TINY_MODEL_BINDINGS + list(extra_bindings))
            trained[extra_bindings] = str(model_dir)
        return trained[extra_bindings]

    return make


class SmallSprites(ground_truth_data.GroundTruthData):
    """A deterministic data set of 12 dSprites images (shape 3 x scale 2 x posX 2), 64x64x1 like the grid's."""

    factor_names = ["shape", "scale", "posX"]
    factors_num_values = [3, 2, 2]
    num_factors = 3
    observation_shape = [64, 64, 1]
    observations_are_deterministic = True

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(n, size=num) for n in self.factors_num_values], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        factors = np.asarray(factors)
        images = dsprites_procedural.render_sprites(factors[:, 0], 0.5 + 0.5 * factors[:, 1], np.zeros(len(factors)),
                                                    factors[:, 2] * 0.8, np.full(len(factors), 0.5))
        return images[..., None]


@pytest.fixture
def small_sprites():
    return SmallSprites()
