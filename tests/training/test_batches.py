"""Tests of dlib_torch/training/batches.py: the device-resident image set (here on CPU tensors) gives
exactly the host's batches; the settings that choose it and the prefetch are refused clearly when impossible."""
import os

import numpy as np
import pytest
import torch

from dlib_torch.data.ground_truth import dsprites
from dlib_torch.data.ground_truth import dsprites_procedural
from dlib_torch.data.ground_truth import dsprites_variants
from dlib_torch.data.ground_truth import mpi3d
from dlib_torch.data.ground_truth import norb
from dlib_torch.data.ground_truth import splits
from dlib_torch.data.ground_truth import synthetic_files
from dlib_torch.data.ground_truth import util
from dlib_torch.methods.weak import weak_vae
from dlib_torch.training import batches
from dlib_torch.utils.errors import ConfigError

DSPRITES_GRID = [1, 3, 2, 4, 2, 3]  # color, shape, scale, orientation, posX, posY
MPI3D_GRID = [2, 3, 2, 1, 2, 3, 2]
NORB_GRID = [2, 3, 2, 3, 2]  # category, instance (a nuisance factor), elevation, azimuth, lighting
CPU = torch.device("cpu")


class _Model:
    """The two members of a model that the default batch path reads."""

    def __init__(self, needs_factors):
        self.needs_factors = needs_factors


def _dsprites(latent_factor_indices):
    images = (np.random.RandomState(0).rand(int(np.prod(DSPRITES_GRID)), 64, 64) > 0.7).astype(np.uint8)
    path = dsprites.dsprites_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    synthetic_files.write_dsprites_npz(path, DSPRITES_GRID, lambda start, stop: images[start:stop])
    return dsprites.DSprites(latent_factor_indices, factor_sizes=DSPRITES_GRID)


def _mpi3d():
    images = np.random.RandomState(1).randint(0, 256, (int(np.prod(MPI3D_GRID)), 64, 64, 3)).astype(np.uint8)
    path = mpi3d.mpi3d_path("mpi3d_toy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    synthetic_files.write_mpi3d_npz(path, len(images), lambda start, stop: images[start:stop], compress=False)
    return mpi3d.MPI3D("mpi3d_toy", factor_sizes=MPI3D_GRID)


def _norb():
    rs = np.random.RandomState(2)
    num = int(np.prod(NORB_GRID))
    features = util.rows_to_factors(rs.permutation(num), NORB_GRID)
    images = rs.randint(0, 256, (num, 2, 96, 96)).astype(np.uint8)
    synthetic_files.write_smallnorb(util.data_root() + "/small_norb", features, lambda a, b: images[a:b], gz=False)
    return norb.SmallNORB(factor_sizes=NORB_GRID)


DATASETS = {
    "dsprites": lambda: _dsprites([1, 2, 3, 4, 5]),
    "dsprites_orientation_nuisance": lambda: _dsprites([1, 2, 4, 5]),  # draws a nuisance factor per image
    "held_out_dsprites": lambda: splits.apply_held_out_split(_dsprites([1, 2, 3, 4, 5]), "shape == 2"),
    "mpi3d": _mpi3d,
    "smallnorb": _norb,
}


@pytest.mark.parametrize("needs_factors", [False, True])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_device_resident_images_give_exactly_the_host_batches(name, needs_factors):
    dataset = DATASETS[name]()
    model = _Model(needs_factors)
    device_images = batches.choose_device_images(True, model, dataset, CPU)
    assert isinstance(device_images, batches.DeviceImages)
    assert device_images.images.dtype == torch.uint8 and device_images.images.device == CPU
    on_device = batches.BatchSource(model, dataset, 7, CPU, device_images)
    host_state, device_state = np.random.RandomState(5), np.random.RandomState(5)
    for _ in range(4):
        expected_factors, expected = batches.model_batch(model, dataset, 7, host_state, CPU)
        factors, observations = on_device.draw(device_state)
        assert observations.dtype == torch.float32 and observations.shape == expected.shape
        assert torch.equal(observations, expected)  # bit for bit: every value, every shape
        assert (factors is None) == (not needs_factors)
        if needs_factors:
            assert factors.dtype == torch.int64 and torch.equal(factors, expected_factors)
    # Both paths consumed the random state alike, so the streams stay in step.
    assert host_state.randint(2**31) == device_state.randint(2**31)


def test_the_host_half_and_the_device_half_make_the_same_batch_as_draw():
    dataset = _dsprites([1, 2, 4, 5])
    model = _Model(True)
    source = batches.BatchSource(model, dataset, 5, CPU, batches.choose_device_images(True, model, dataset, CPU))
    factors, rows = source.draw_host(np.random.RandomState(3))
    assert rows.dtype == torch.int64 and rows.shape == (5,)
    two_halves = source.finish(source.to_device((factors, rows)))
    drawn = source.draw(np.random.RandomState(3))
    assert all(torch.equal(a, b) for a, b in zip(two_halves, drawn))


def test_auto_holds_the_images_on_cuda_only_and_false_never():
    dataset = _dsprites([1, 2, 3, 4, 5])
    model = _Model(False)
    assert batches.choose_device_images("auto", model, dataset, CPU) is None
    assert batches.choose_device_images(False, model, dataset, CPU) is None


@pytest.mark.parametrize("make, reason", [
    (lambda: dsprites_procedural.ProceduralDSprites(), "renders or transforms its images"),
    (lambda: dsprites_variants.NoisyDSprites(_dsprites([1, 2, 3, 4, 5])), "renders or transforms its images"),
    (lambda: splits.apply_held_out_split(dsprites_procedural.ProceduralDSprites(), "shape == 2"),
     "renders or transforms its images"),
])
def test_data_sets_that_make_their_images_stay_on_the_host(make, reason):
    dataset = make()
    assert dataset.image_table() is None
    with pytest.raises(ConfigError, match=r"^training_runtime.data_on_device = True cannot be met: .*{}.*; set it "
                                          r"to 'auto' or False$".format(reason)):
        batches.choose_device_images(True, _Model(False), dataset, CPU)


def test_models_that_draw_their_own_batches_keep_them_on_the_host():
    dataset = _dsprites([1, 2, 3, 4, 5])
    model = weak_vae.GroupVAEArgmax(beta=1.)
    with pytest.raises(ConfigError, match=r"cannot be met: the model draws its own batches \(sample_batch\)"):
        batches.choose_device_images(True, model, dataset, CPU)
    assert batches.choose_device_images("auto", model, dataset, CPU) is None


def test_an_image_set_larger_than_the_memory_share_is_refused(monkeypatch):
    dataset = _dsprites([1, 2, 3, 4, 5])
    monkeypatch.setattr(batches, "free_memory_bytes", lambda device: 2 * batches.image_bytes(dataset.image_table()) - 1)
    with pytest.raises(ConfigError, match=r"its images take 0.00 GiB, more than 50% of the 0.00 GiB free on cpu"):
        batches.choose_device_images(True, _Model(False), dataset, CPU)


def test_prefetch_auto_is_on_for_cuda_only_and_never_for_models_whose_batches_use_their_state():
    class Stateful(_Model):
        sample_batch_uses_model_state = True
    assert batches.choose_prefetch("auto", _Model(False), CPU) == 0
    assert batches.choose_prefetch("auto", _Model(False), torch.device("cuda")) == batches.AUTO_PREFETCH_BATCHES
    assert batches.choose_prefetch(3, _Model(False), CPU) == 3
    assert batches.choose_prefetch("auto", Stateful(False), torch.device("cuda")) == 0
    assert batches.choose_prefetch(0, Stateful(False), CPU) == 0
    with pytest.raises(ConfigError, match=r"^training_runtime.prefetch_batches = 2 is not possible for Stateful: "):
        batches.choose_prefetch(2, Stateful(False), CPU)


def test_training_with_the_image_set_on_the_device_equals_training_from_the_host(tmp_path, monkeypatch):
    from dlib_torch.training import checkpoint
    from dlib_torch.methods.unsupervised import train
    dataset = _dsprites([1, 2, 4, 5])  # orientation drawn per image: the nuisance draws must stay in order
    monkeypatch.setattr(train, "load_training_data", lambda: dataset)
    gin_file = os.path.join(os.path.dirname(__file__), "..", "methods", "unsupervised", "train_test.gin")
    run = ["model.training_steps = 8", "model.eval_steps = 2", "model.batch_size = 4",
           "training_runtime.checkpoint_every_steps = 3"]
    settings = {"host": ["training_runtime.data_on_device = False"],
                "device": ["training_runtime.data_on_device = True"],
                "device_prefetch": ["training_runtime.data_on_device = True", "training_runtime.prefetch_batches = 2"]}
    states = {}
    for name, bindings in settings.items():
        train.train_with_gin(str(tmp_path / name), False, [gin_file], run + bindings)
        states[name] = checkpoint.load(checkpoint.checkpoint_path(str(tmp_path / name)), "cpu")
    for name in ("device", "device_prefetch"):
        for key, value in states["host"]["model"].items():
            assert torch.equal(states[name]["model"][key], value), (name, key)
        assert states[name]["rng"]["numpy_data"] == states["host"]["rng"]["numpy_data"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (the CPU tests above cover the logic)")
@pytest.mark.parametrize("on_device", [False, True])
def test_on_cuda_prefetched_batches_are_the_batches_drawn_in_the_loop(on_device):
    from dlib_torch.training import prefetch
    dataset = _dsprites([1, 2, 4, 5])
    model, device = _Model(True), torch.device("cuda")
    device_images = batches.choose_device_images(True, model, dataset, device) if on_device else None
    source = batches.BatchSource(model, dataset, 8, device, device_images)
    prefetched_state, loop_state = np.random.RandomState(1), np.random.RandomState(1)
    with prefetch.batch_stream(source, prefetched_state, 3) as stream:
        for _ in range(6):
            factors, observations = stream.next()
            expected_factors, expected = batches.model_batch(model, dataset, 8, loop_state, device)
            assert observations.device.type == "cuda" and torch.equal(observations, expected)
            assert torch.equal(factors, expected_factors)
            a, b = prefetched_state.get_state(), loop_state.get_state()
            assert np.array_equal(a[1], b[1]) and a[2:] == b[2:]
