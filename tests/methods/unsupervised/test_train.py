"""Tests of dlib_torch/methods/unsupervised/train.py: every model trains, records, exports, resumes, fails clearly."""
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys

import gin
import numpy as np
import pytest
import torch

from dlib_torch.data.ground_truth import factor_scaling
from dlib_torch.data.ground_truth import named_data
from dlib_torch.methods.shared import architectures
from dlib_torch.methods.shared import losses
from dlib_torch.methods.unsupervised import gt_decoder
from dlib_torch.methods.unsupervised import train
from dlib_torch.methods.unsupervised import vae
from dlib_torch.training import batches
from dlib_torch.training import checkpoint
from dlib_torch.training import loop
from dlib_torch.training import training_log
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError

TEST_GIN = os.path.join(os.path.dirname(__file__), "train_test.gin")
TINY = ["model.training_steps = 3", "model.eval_steps = 1", "model.batch_size = 4"]

METHODS = {
    "vae": ["model.model = @vae()", "vae.beta = 10."],
    "annealed_vae": ["model.model = @annealed_vae()", "annealed_vae.c_max = 25",
                     "annealed_vae.iteration_threshold = 100000", "annealed_vae.gamma = 1000"],
    "factor_vae": ["model.model = @factor_vae()", "discriminator.discriminator_fn = @fc_discriminator",
                   "discriminator_optimizer.optimizer_fn = @AdamOptimizer", "factor_vae.gamma = 10."],
    "dip_vae_i": ["model.model = @dip_vae()", "dip_vae.lambda_d_factor = 10", "dip_vae.dip_type = 'i'",
                  "dip_vae.lambda_od = 10."],
    "dip_vae_ii": ["model.model = @dip_vae()", "dip_vae.lambda_d_factor = 1", "dip_vae.dip_type = 'ii'",
                   "dip_vae.lambda_od = 10."],
    "beta_tc_vae": ["model.model = @beta_tc_vae()", "beta_tc_vae.beta = 10."],
    "gt_decoder": ["model.model = @gt_decoder()"],
}
ARCHITECTURES = {
    "fc": ["encoder.encoder_fn = @fc_encoder", "decoder.decoder_fn = @fc_decoder"],
    "conv": ["encoder.encoder_fn = @conv_encoder", "decoder.decoder_fn = @deconv_decoder"],
}
VAE_KEYS = {"loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss", "global_step", "elapsed_time", "uuid"}
FACTOR_VAE_KEYS = VAE_KEYS - {"elbo"}
GT_DECODER_KEYS = {"loss", "reconstruction_loss", "global_step", "elapsed_time", "uuid"}


@gin.configurable("encoder_for_32x32_images")
def encoder_for_32x32_images(input_shape, num_latent):
    """A user's encoder that ignores the data set's image size."""
    del input_shape
    return architectures.FCEncoder([32, 32, 1], num_latent)


@pytest.fixture(autouse=True)
def _clear_gin():
    gin.clear_config()
    yield
    gin.clear_config()


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: tests run beside each other (pytest -n 2), where waiting OpenMP threads cost much."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train(model_dir, bindings, overwrite=False):
    train.train_with_gin(str(model_dir), overwrite, [TEST_GIN], TINY + list(bindings))


def _results(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
        return json.load(f)


def _config(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_config.json")) as f:
        return json.load(f)


def _final_parameters(model_dir):
    return checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")["model"]


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("dataset", ["dummy_data", "dsprites_procedural"])
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
@pytest.mark.parametrize("loss", ["@bernoulli_loss", "@l2_loss"])
def test_every_method_trains_on_both_datasets_architectures_and_losses(tmp_path, method, dataset, architecture,
                                                                       loss):
    model_dir = tmp_path / "model"
    _train(model_dir, METHODS[method] + ARCHITECTURES[architecture] + [
        "dataset.name = '{}'".format(dataset), "reconstruction_loss.loss_fn = " + loss])
    results = _results(model_dir)
    expected = {"factor_vae": FACTOR_VAE_KEYS, "gt_decoder": GT_DECODER_KEYS}.get(method, VAE_KEYS)
    assert set(results) == expected
    assert all(math.isfinite(results[k]) for k in expected - {"uuid"})
    assert results["global_step"] == (4 if method == "factor_vae" else 3)
    shutil.rmtree(model_dir)  # the fc models write ~200 MB


@pytest.mark.parametrize("loss", ["@bernoulli_loss", "@l2_loss"])
def test_tanh_activation_trains(tmp_path, loss):
    _train(tmp_path / "model", ["reconstruction_loss.loss_fn = " + loss, "reconstruction_loss.activation = 'tanh'"])
    assert _config(tmp_path / "model")["reconstruction_loss.activation"] == "'tanh'"


def test_records_have_the_reference_keys_and_design_config(tmp_path):
    model_dir = tmp_path / "model"
    _train(model_dir, ["model.name = 'shared'", "model.model_num = 7"])
    results = _results(model_dir)
    assert set(results) == VAE_KEYS
    assert results["elbo"] == pytest.approx(-(results["reconstruction_loss"] + results["kl_loss"]), rel=1e-6)
    assert results["loss"] == pytest.approx(results["reconstruction_loss"] + results["regularizer"], rel=1e-6)
    config = _config(model_dir)
    assert config["dataset.name"] == "'dummy_data'"
    assert config["encoder.num_latent"] == "10"
    assert config["reconstruction_loss.activation"] == "'logits'"
    assert config["model.model"] == "@vae()"
    assert config["model.eval_steps"] == "1"
    assert config["model.model_num"] == "7"
    assert config["held_out.split"] == "None"
    assert config["AdamOptimizer.epsilon"] == "0.001"
    with open(os.path.join(model_dir, "results", "aggregate", "train.json")) as f:
        aggregate = json.load(f)
    assert aggregate["train_results.global_step"] == 3
    assert aggregate["train_config.model.name"] == "'shared'"
    assert sorted(os.listdir(model_dir / "exported")) == ["decoder.pt", "decoder.pt.sha256", "gaussian_encoder.pt",
                                                          "gaussian_encoder.pt.sha256"]


def test_reference_shared_gin_trains_unchanged_but_for_size(tmp_path):
    """The reference's unsupervised_study_v1 shared.gin, with a procedural data set and tiny sizes."""
    shared = tmp_path / "shared.gin"
    shared.write_text("\n".join([
        "model.batch_size = 64", "encoder.num_latent = 10", "model.model = @vae()",
        "dataset.name = \"dsprites_procedural\"", "vae.beta = 1.",
        "vae_optimizer.optimizer_fn = @vae/AdamOptimizer",
        "discriminator_optimizer.optimizer_fn = @discriminator/AdamOptimizer", "model.training_steps = 300000",
        "model.random_seed=0", "vae/AdamOptimizer.beta1 = 0.9", "vae/AdamOptimizer.beta2 = 0.999",
        "vae/AdamOptimizer.epsilon = 1e-08", "vae/AdamOptimizer.learning_rate = 0.0001",
        "vae/AdamOptimizer.name = 'Adam'", "vae/AdamOptimizer.use_locking = False",
        "discriminator/AdamOptimizer.beta1 = 0.5", "discriminator/AdamOptimizer.beta2 = 0.9",
        "discriminator/AdamOptimizer.epsilon = 1e-08", "discriminator/AdamOptimizer.name = 'Adam'",
        "discriminator/AdamOptimizer.use_locking = False", "discriminator/AdamOptimizer.learning_rate = 0.0001",
        "encoder.encoder_fn = @conv_encoder", "decoder.decoder_fn = @deconv_decoder",
        "reconstruction_loss.loss_fn = @bernoulli_loss"]))
    model_dir = tmp_path / "model"
    train.train_with_gin(str(model_dir), False, [str(shared)], ["model.training_steps = 2", "model.batch_size = 4",
                                                                "model.eval_steps = 1"])
    config = _config(model_dir)
    assert config["vae/AdamOptimizer.learning_rate"] == "0.0001"
    assert config["vae/AdamOptimizer.beta1"] == "0.9"
    assert _results(model_dir)["global_step"] == 2


def test_same_configuration_and_seed_give_identical_results(tmp_path):
    for name in ["a", "b"]:
        _train(tmp_path / name, ["model.training_steps = 5"])
    a, b = _final_parameters(tmp_path / "a"), _final_parameters(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    results_a, results_b = _results(tmp_path / "a"), _results(tmp_path / "b")
    assert results_a["loss"] == results_b["loss"]
    _train(tmp_path / "c", ["model.training_steps = 5", "model.random_seed = 1"])
    assert not torch.equal(a["encoder.e1.weight"], _final_parameters(tmp_path / "c")["encoder.e1.weight"])


def test_finished_model_is_a_no_op_and_overwrite_retrains(tmp_path):
    model_dir = tmp_path / "model"
    _train(model_dir, [])
    first_uuid = _results(model_dir)["uuid"]
    checkpoint_mtime = os.stat(checkpoint.checkpoint_path(str(model_dir))).st_mtime_ns
    _train(model_dir, [])
    assert _results(model_dir)["uuid"] == first_uuid
    assert os.stat(checkpoint.checkpoint_path(str(model_dir))).st_mtime_ns == checkpoint_mtime
    (model_dir / "user_file").write_text("kept by --overwrite: not the stage's")
    _train(model_dir, [], overwrite=True)
    assert _results(model_dir)["uuid"] != first_uuid
    assert (model_dir / "user_file").read_text() == "kept by --overwrite: not the stage's"


def test_unfinished_model_resumes_from_its_checkpoint_only_with_the_same_configuration(tmp_path):
    model_dir = tmp_path / "model"
    _train(model_dir, ["model.training_steps = 4"])
    finished = _results(model_dir)
    shutil.rmtree(model_dir / "results")  # as if the job died after its last checkpoint
    with pytest.raises(UserError, match="another gin configuration"):
        _train(model_dir, ["model.training_steps = 4", "vae.beta = 2."])
    _train(model_dir, ["model.training_steps = 4", "training_runtime.log_every_steps = 7"])
    resumed = _results(model_dir)
    assert {k: resumed[k] for k in ["loss", "kl_loss", "global_step"]} == \
        {k: finished[k] for k in ["loss", "kl_loss", "global_step"]}


def test_held_out_training_samples_only_kept_combinations(tmp_path):
    gin.parse_config(["dataset.name = 'dsprites_procedural'", "held_out.split = 'shape2tx'"])
    dataset = train.load_training_data()
    random_state = np.random.RandomState(0)
    factors = np.concatenate([batches.sample_batch(dataset, 64, random_state, True, torch.device("cpu"))[0].numpy()
                              for _ in range(50)])
    held_out = (factors[:, 0] == 0) & (factors[:, 3] >= 16)
    assert not held_out.any()
    assert (factors[:, 0] == 0).any() and (factors[:, 3] >= 16).any()  # each condition alone still occurs
    gin.clear_config()
    model_dir = tmp_path / "model"
    _train(model_dir, METHODS["gt_decoder"] + ["dataset.name = 'dsprites_procedural'", "held_out.split = 'shape2tx'"])
    assert _config(model_dir)["held_out.split"] == "'shape2tx'"


def test_factor_vae_global_step_quirk_is_switchable(tmp_path):
    _train(tmp_path / "a", METHODS["factor_vae"] + ["model.training_steps = 5"])
    assert _results(tmp_path / "a")["global_step"] == 6  # 3 iterations, 2 global steps each
    _train(tmp_path / "b", METHODS["factor_vae"] + ["model.training_steps = 5",
                                                     "factor_vae.double_count_global_step = False"])
    assert _results(tmp_path / "b")["global_step"] == 5


def _run_fresh_python(script, *args):
    """Runs `script` in a new interpreter where importing dlib_torch fails."""
    guarded = "import sys\nsys.modules['dlib_torch'] = None\n" + script
    completed = subprocess.run([sys.executable, "-c", guarded] + [str(a) for a in args], capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def _rebuild_trained_model(model_dir, model):
    """The trained model in memory: the operative config of the run, its final checkpoint."""
    gin.parse_config_file(os.path.join(model_dir, "results", "gin", "train.gin"))
    dataset = named_data.get_named_ground_truth_data()
    model.build(dataset.observation_shape, dataset.factors_num_values)
    model.load_state_dict(_final_parameters(model_dir))
    return model.eval(), dataset


def test_exported_modules_reproduce_the_model_in_a_fresh_process(tmp_path):
    model_dir = tmp_path / "model"
    _train(model_dir, ARCHITECTURES["conv"] + ["dataset.name = 'dsprites_procedural'"])
    gin.clear_config()
    model, dataset = _rebuild_trained_model(model_dir, vae.BetaVAE(beta=10.))
    images = dataset.sample_observations(5, np.random.RandomState(1)).astype(np.float32)
    latents = np.random.RandomState(2).normal(size=(5, 10)).astype(np.float32)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "latents.npy", latents)
    _run_fresh_python("""
import numpy as np, torch
model_dir, work = sys.argv[1], sys.argv[2]
encoder = torch.jit.load(model_dir + "/exported/gaussian_encoder.pt")
decoder = torch.jit.load(model_dir + "/exported/decoder.pt")
with torch.no_grad():
    mean, logvar = encoder(torch.from_numpy(np.load(work + "/images.npy")))
    logits = decoder(torch.from_numpy(np.load(work + "/latents.npy")))
np.save(work + "/mean.npy", mean.numpy()); np.save(work + "/logvar.npy", logvar.numpy())
np.save(work + "/logits.npy", logits.numpy())
assert "dlib_torch" not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None]
""", model_dir, tmp_path)
    with torch.no_grad():
        mean, logvar = model.gaussian_encoder(torch.from_numpy(images))
        logits = model.decode(torch.from_numpy(latents))
    np.testing.assert_allclose(np.load(tmp_path / "mean.npy"), mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "logvar.npy"), logvar.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), logits.numpy(), rtol=1e-5, atol=1e-5)
    assert logits.shape == (5, 64, 64, 1)


def test_gt_decoder_exports_only_a_decoder_of_scaled_factors(tmp_path):
    model_dir = tmp_path / "model"
    _train(model_dir, METHODS["gt_decoder"] + ARCHITECTURES["conv"] + ["dataset.name = 'dsprites_procedural'"])
    assert sorted(os.listdir(model_dir / "exported")) == ["decoder.pt", "decoder.pt.sha256"]
    assert set(_results(model_dir)) == GT_DECODER_KEYS
    gin.clear_config()
    model, dataset = _rebuild_trained_model(model_dir, gt_decoder.GroundTruthDecoder())
    factors = dataset.sample_factors(6, np.random.RandomState(0))
    inputs = factor_scaling.scaled_factor_inputs(factors, dataset.factors_num_values)
    assert inputs.shape == (6, 5) and inputs.min() >= 0 and inputs.max() <= 1
    np.save(tmp_path / "inputs.npy", inputs)
    _run_fresh_python("""
import numpy as np, torch
decoder = torch.jit.load(sys.argv[1] + "/exported/decoder.pt")
with torch.no_grad():
    np.save(sys.argv[2] + "/logits.npy", decoder(torch.from_numpy(np.load(sys.argv[2] + "/inputs.npy"))).numpy())
""", model_dir, tmp_path)
    observations = torch.from_numpy(dataset.sample_observations_from_factors(factors, np.random.RandomState(0)).astype(np.float32))
    with torch.no_grad():
        _, scalars = model.model_fn(observations, 0, factors=torch.from_numpy(factors))
        expected_logits = model.decoder(torch.from_numpy(inputs))
    np.testing.assert_allclose(np.load(tmp_path / "logits.npy"), expected_logits.numpy(), rtol=1e-5, atol=1e-5)
    assert expected_logits.shape == (6, 64, 64, 1)
    # model_fn decodes the same scaled factors: its loss is the loss of these logits.
    expected_loss = losses.bernoulli_loss(observations, expected_logits, "logits").mean()
    assert float(scalars["loss"]) == pytest.approx(float(expected_loss), rel=1e-6)


def test_factor_scales_map_indices_to_unit_interval():
    np.testing.assert_allclose(factor_scaling.factor_scales([3, 6, 40, 32, 32]), [0.5, 0.2, 1 / 39, 1 / 31, 1 / 31])
    np.testing.assert_allclose(factor_scaling.scaled_factor_inputs([[0, 4], [0, 2]], [1, 5]), [[0., 1.], [0., 0.5]])


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    model_dir = tmp_path / "model"
    with pytest.raises(loop.TrainingDivergedError, match=r"at global step (\d+)") as error:
        _train(model_dir, ["model.training_steps = 40", "training_runtime.checkpoint_every_steps = 2",
                           "vae_optimizer.learning_rate = @piecewise_constant",
                           "piecewise_constant.boundaries = (5,)", "piecewise_constant.values = (0.001, 1e38)"])
    bad_step = int(re.search(r"at global step (\d+)", str(error.value)).group(1))
    assert bad_step > 5
    state = checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")
    assert state["global_step"] <= bad_step
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert not os.path.exists(model_dir / "results")


def test_a_signal_during_a_report_still_ends_with_a_checkpoint(tmp_path, monkeypatch):
    # SIGUSR1 delivered while the first report is written (after the step decided whether to checkpoint): the
    # loop must not stop before it has saved the checkpoint it promises.
    real_report = training_log.TrainingLog.report

    def report_then_signal(self, global_step, scalars):
        real_report(self, global_step, scalars)
        os.kill(os.getpid(), signal.SIGUSR1)
    monkeypatch.setattr(training_log.TrainingLog, "report", report_then_signal)
    model_dir = tmp_path / "model"
    with pytest.raises(Preempted, match=r"received SIGUSR1 at global step (\d+)") as stopped:
        _train(model_dir, ["model.training_steps = 40", "training_runtime.log_every_steps = 3",
                           "training_runtime.checkpoint_every_steps = 100"])
    stopped_at = int(re.search(r"global step (\d+)", str(stopped.value)).group(1))
    assert stopped_at == 4  # the report came at step 3; the next step boundary checkpoints and stops
    assert checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")["global_step"] == stopped_at


def test_configuration_errors_surface_before_any_work(tmp_path):
    model_dir = tmp_path / "model"
    with pytest.raises(ConfigError, match=r"Required bindings for `beta_tc_vae`.*beta"):
        train.train_with_gin(str(model_dir), False, [TEST_GIN], ["model.model = @beta_tc_vae()"])
    without_loss = tmp_path / "without_loss.gin"
    with open(TEST_GIN) as f:
        without_loss.write_text("".join(line for line in f if "reconstruction_loss" not in line))
    with pytest.raises(ConfigError, match=r"Required bindings for `reconstruction_loss`.*loss_fn"):
        train.train_with_gin(str(model_dir), False, [str(without_loss)])
    with pytest.raises(ConfigError, match="activation"):
        train.train_with_gin(str(model_dir), False, [TEST_GIN], ["reconstruction_loss.activation = 'relu'"])
    with pytest.raises(ConfigError, match=r"cannot process a batch of \[64, 64, 1\] observations"):
        train.train_with_gin(str(model_dir), False, [TEST_GIN], ["encoder.encoder_fn = @encoder_for_32x32_images"])
    with pytest.raises(ConfigError, match="bogus"):
        train.train_with_gin(str(model_dir), False, [TEST_GIN], ["vae.bogus = 1"])
    assert not model_dir.exists()


def test_device_is_chosen_automatically_and_overridable(tmp_path):
    _train(tmp_path / "auto", [])
    assert _config(tmp_path / "auto")["training_runtime.device"] == "'auto'"
    if torch.cuda.is_available():
        _train(tmp_path / "cuda", ["training_runtime.device = 'cuda'"])
        assert _results(tmp_path / "cuda")["global_step"] == 3
    else:
        with pytest.raises(ConfigError, match="CUDA is not available"):
            _train(tmp_path / "cuda", ["training_runtime.device = 'cuda'"])
        assert not (tmp_path / "cuda").exists()


def test_scalars_are_logged_as_json_lines(tmp_path):
    model_dir = tmp_path / "model"
    _train(model_dir, ["model.training_steps = 7", "training_runtime.log_every_steps = 3"])
    with open(model_dir / "scalars.jsonl") as f:
        records = [json.loads(line) for line in f]
    assert [r["global_step"] for r in records] == [3, 6, 7]
    assert {"loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss", "steps_per_second"} <= set(records[0])
    assert (model_dir / "tensorboard").exists() == (importlib.util.find_spec("tensorboard") is not None)


def test_scalars_go_to_tensorboard_event_files(tmp_path):
    """The test extra installs tensorboard (the event files are written only where it is installed)."""
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    model_dir = tmp_path / "model"
    _train(model_dir, ["model.training_steps = 7", "training_runtime.log_every_steps = 3"])
    events = event_accumulator.EventAccumulator(str(model_dir / "tensorboard"))
    events.Reload()
    assert {"loss", "reconstruction_loss", "elbo", "regularizer", "kl_loss"} <= set(events.Tags()["scalars"])
    assert [event.step for event in events.Scalars("loss")] == [3, 6, 7]
    with open(model_dir / "scalars.jsonl") as f:
        losses = [json.loads(line)["loss"] for line in f]
    assert [event.value for event in events.Scalars("loss")] == pytest.approx(losses, rel=1e-6)


def test_checkpoints_are_also_written_every_few_minutes(tmp_path):
    """A report accompanies every checkpoint; with a zero-minute interval, every step checkpoints."""
    for minutes, expected_reports in [(0, [1, 2, 3]), (10, [3])]:
        model_dir = tmp_path / "minutes_{}".format(minutes)
        _train(model_dir, ["training_runtime.checkpoint_every_minutes = {}".format(minutes)])
        with open(model_dir / "scalars.jsonl") as f:
            assert [json.loads(line)["global_step"] for line in f] == expected_reports


def test_export_traces_a_user_module_that_torchscript_cannot_compile(tmp_path):
    from dlib_torch.utils import exported_modules

    class NotScriptable(torch.nn.Module):
        def forward(self, x):
            return torch.stack([row * len(str(i)) for i, row in enumerate(x)])  # str() of an int: not TorchScript

    example = torch.ones(3, 2)
    exported_modules.export_as_torchscript({"m.pt": (NotScriptable(), example)}, str(tmp_path))
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    torch.testing.assert_close(loaded(example), NotScriptable()(example))
