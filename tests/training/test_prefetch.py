"""Tests of dlib_torch/training/prefetch.py: batches drawn ahead in a thread change no result, a
checkpoint holds the data stream as of the next batch consumed, errors and shutdown are clean."""
import json
import os
import re
import signal
import threading

import numpy as np
import pytest
import torch

from dlib_torch.methods.unsupervised import train
from dlib_torch.methods.weak import train_weak_lib
from dlib_torch.training import batches
from dlib_torch.training import checkpoint
from dlib_torch.training import prefetch
from dlib_torch.training import training_log
from dlib_torch.utils.errors import ConfigError
from dlib_torch.utils.errors import Preempted
from dlib_torch.utils.errors import UserError

HERE = os.path.dirname(__file__)
TEST_GIN = os.path.join(HERE, "..", "methods", "unsupervised", "train_test.gin")
WEAK_GIN = os.path.join(HERE, "..", "methods", "weak", "train_test.gin")
# dummy_data draws every pixel from the data random state: any change in the order of the draws shows.
RUN = ["model.training_steps = 12", "model.eval_steps = 2", "model.batch_size = 4",
       "training_runtime.checkpoint_every_steps = 5"]
CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("clean_gin")


def _parameters(model_dir):
    return checkpoint.load(checkpoint.checkpoint_path(str(model_dir)), "cpu")["model"]


def _assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _results(model_dir):
    with open(os.path.join(model_dir, "results", "json", "train_results.json")) as f:
        return json.load(f)


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "dtl-prefetch"]


@pytest.mark.parametrize("trainer, gin_file, extra", [
    (train.train_with_gin, TEST_GIN, []),
    (train.train_with_gin, TEST_GIN, ["dataset.name = 'dsprites_procedural'", "model.model = @factor_vae()",
                                      "factor_vae.gamma = 10.", "discriminator.discriminator_fn = @fc_discriminator",
                                      "discriminator_optimizer.optimizer_fn = @AdamOptimizer"]),
    (train_weak_lib.train_with_gin, WEAK_GIN, []),  # its own sample_batch (pairs), called in the thread
    (train.train_with_gin, TEST_GIN, ["dataset.name = 'dsprites_procedural'", "model.model = @composer()",
                                      "held_out.split = 'shape2tx'"]),  # triplets of the training side
    # Best-checkpoint selection draws its own batches in the main thread while the thread draws ahead.
    (train.train_with_gin, TEST_GIN, ["model_selection.every_steps = 4", "model_selection.num_batches = 2"]),
])
def test_prefetch_gives_bitwise_the_parameters_and_results_of_drawing_in_the_loop(tmp_path, trainer, gin_file, extra):
    for depth in (0, 3):
        trainer(str(tmp_path / str(depth)), False, [gin_file],
                RUN + extra + ["training_runtime.prefetch_batches = {}".format(depth)])
        assert not _prefetch_threads()
    _assert_bitwise_equal(_parameters(tmp_path / "0"), _parameters(tmp_path / "3"))
    without, with_prefetch = _results(tmp_path / "0"), _results(tmp_path / "3")
    for key in without:
        if key not in ("elapsed_time", "uuid"):
            assert without[key] == with_prefetch[key], key
    states = [checkpoint.load(checkpoint.checkpoint_path(str(tmp_path / d)), "cpu")["rng"]["numpy_data"]
              for d in ("0", "3")]
    assert states[0] == states[1]


def _preempt_after_report(monkeypatch, at_step):
    """Sends SIGUSR1 to this process when the report of `at_step` is written."""
    real_report = training_log.TrainingLog.report

    def report_then_signal(self, global_step, scalars):
        real_report(self, global_step, scalars)
        if global_step == at_step:
            os.kill(os.getpid(), signal.SIGUSR1)
    monkeypatch.setattr(training_log.TrainingLog, "report", report_then_signal)


def test_a_preempted_and_resumed_run_with_prefetch_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    bindings = RUN + ["training_runtime.log_every_steps = 1"]
    train.train_with_gin(str(tmp_path / "uninterrupted"), False, [TEST_GIN], bindings)
    with monkeypatch.context() as patch:
        _preempt_after_report(patch, at_step=3)
        for name, depth in (("prefetched", 4), ("inline", 0)):
            with pytest.raises(Preempted, match=r"received SIGUSR1 at global step 4"):
                train.train_with_gin(str(tmp_path / name), False, [TEST_GIN],
                                     bindings + ["training_runtime.prefetch_batches = {}".format(depth)])
            assert not _prefetch_threads()
    # The thread had drawn batches beyond step 4; the checkpoint holds the stream as of batch 5, as without it.
    stopped = [checkpoint.load(checkpoint.checkpoint_path(str(tmp_path / name)), "cpu")
               for name in ("prefetched", "inline")]
    assert stopped[0]["global_step"] == stopped[1]["global_step"] == 4
    assert stopped[0]["rng"]["numpy_data"] == stopped[1]["rng"]["numpy_data"]
    train.train_with_gin(str(tmp_path / "prefetched"), False, [TEST_GIN],
                         bindings + ["training_runtime.prefetch_batches = 2"])
    _assert_bitwise_equal(_parameters(tmp_path / "uninterrupted"), _parameters(tmp_path / "prefetched"))
    assert _results(tmp_path / "uninterrupted")["loss"] == _results(tmp_path / "prefetched")["loss"]


class _CountingSource(batches.BatchSource):
    """Batches of the draws' values; fails on draw number `fail_at` (counted from 1)."""

    def __init__(self, fail_at=None):
        super().__init__(None, None, 3, CPU)
        self.fail_at, self.draws = fail_at, 0

    def draw(self, random_state):
        return self.draw_host(random_state)

    def draw_host(self, random_state):
        self.draws += 1
        if self.draws == self.fail_at:
            raise UserError("data file damaged at draw {}".format(self.draws))
        return None, torch.from_numpy(random_state.randint(1000, size=3))


def test_the_callers_random_state_follows_the_batches_consumed_not_those_drawn_ahead():
    expected_state = np.random.RandomState(7)
    expected = [expected_state.randint(1000, size=3) for _ in range(5)]
    random_state = np.random.RandomState(7)
    source = _CountingSource()
    with prefetch.batch_stream(source, random_state, 4) as stream:
        for k in range(5):
            _, batch = stream.next()
            np.testing.assert_array_equal(batch.numpy(), expected[k])
            reference = np.random.RandomState(7)
            for _ in range(k + 1):
                reference.randint(1000, size=3)
            assert random_state.randint(2**31) == reference.randint(2**31)  # state as of batch k + 1 ...
            random_state.set_state(reference.get_state())  # ... (undo this test's own draw)
        # The thread draws ahead: 4 batches queued and one more waiting for room, then it waits.
        while source.draws < 10:
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)
    assert source.draws == 10 and source.batches_taken == 5
    assert not _prefetch_threads()


def test_a_failing_draw_in_the_thread_is_raised_in_the_main_thread_with_its_message():
    source = _CountingSource(fail_at=3)
    with prefetch.batch_stream(source, np.random.RandomState(0), 2) as stream:
        with pytest.raises(UserError, match=r"^data file damaged at draw 3$"):
            for _ in range(10):
                stream.next()
        with pytest.raises(UserError, match=r"^data file damaged at draw 3$"):  # again, without waiting forever
            stream.next()
    assert source.batches_taken == 2
    assert not _prefetch_threads()


def test_leaving_early_stops_the_thread_without_waiting_for_the_queue():
    source = _CountingSource()
    for depth in (1, 8):
        with prefetch.batch_stream(source, np.random.RandomState(0), depth) as stream:
            stream.next()
        assert not _prefetch_threads()


def test_data_on_device_true_is_refused_for_a_data_set_that_renders_its_images(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("training_runtime.data_on_device = True cannot be met: the data "
                                                    "set renders or transforms its images")):
        train.train_with_gin(str(tmp_path / "model"), False, [TEST_GIN],
                             ["training_runtime.data_on_device = True"])
