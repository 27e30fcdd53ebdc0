"""A SIGTERM that lands during the export still ends with exit 75 and resumes; worker processes of parallel
metric fits do not outlive a killed or preempted run."""
import json
import os
import signal
import subprocess
import textwrap
import time

from reliability_tools import ENV, MEAN_GIN, TRAIN_GIN, command, run

# A user model (loaded by the gin file's import line) whose export announces itself and takes a while, so that
# the test can deliver its signal in the middle of the export.
SLOW_EXPORT_MODEL = textwrap.dedent('''
    import os
    import time

    import gin

    from dlib_torch.methods.unsupervised import vae


    @gin.configurable("slow_export_vae")
    class SlowExportVAE(vae.BetaVAE):
        def exported_modules(self):
            with open(os.environ["EXPORT_STARTED"], "w") as f:
                f.write("started")
            time.sleep(3)
            return super().exported_modules()
''')


def test_sigterm_during_the_export_exits_75_and_resumes(tmp_path):
    (tmp_path / "slow_export_model.py").write_text(SLOW_EXPORT_MODEL)
    gin_file = tmp_path / "slow.gin"
    gin_file.write_text("import slow_export_model\ninclude '{}'\nmodel.model = @slow_export_vae()\n"
                        "slow_export_vae.beta = 1.\n".format(TRAIN_GIN))
    started = tmp_path / "export_started"
    env = dict(ENV, PYTHONPATH=str(tmp_path), EXPORT_STARTED=str(started))
    model_dir = tmp_path / "model"
    arguments = command("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + str(gin_file))
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), process.stderr.read()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 75, stderr
    assert "while exporting" in stderr
    assert not (model_dir / "results" / "aggregate" / "train.json").exists()

    again = subprocess.run(arguments, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    with open(model_dir / "results" / "json" / "train_results.json") as f:
        assert json.load(f)["global_step"] == 20
    assert (model_dir / "exported" / "gaussian_encoder.pt").exists()


def _children(pid):
    """Process ids whose parent is `pid` (from /proc)."""
    result = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/{}/stat".format(entry)) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                result.append(int(entry))
    return result


def _alive(pid):
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_metric_workers_do_not_outlive_a_killed_run(tmp_path):
    model_dir, representation = tmp_path / "model", tmp_path / "mean"
    assert run("dtl_train", "--model_dir=" + str(model_dir), "--gin_config=" + TRAIN_GIN).returncode == 0
    assert run("dtl_postprocess", "--model_dir=" + str(model_dir), "--output_dir=" + str(representation),
               "--gin_config=" + MEAN_GIN).returncode == 0
    # DCI fits one boosted-tree model per factor in worker processes; large enough to still run when killed.
    dci = tmp_path / "dci.gin"
    dci.write_text("evaluation.evaluation_fn = @dci\nevaluation.random_seed = 0\ndci.num_train = 20000\n"
                   "dci.num_test = 100\ndci.batch_size = 256\ngradient_boosting_classifier.implementation = "
                   "'sklearn'\n")
    process = subprocess.Popen(command("dtl_evaluate", "--input_dir=" + str(representation),
                                       "--output_dir=" + str(tmp_path / "dci"), "--gin_config=" + str(dci)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(ENV, DTL_NUM_JOBS="2"))
    deadline = time.monotonic() + 240
    workers = []
    while time.monotonic() < deadline and process.poll() is None:
        workers = [pid for pid in _children(process.pid) if "Loky" in open("/proc/{}/cmdline".format(pid)).read()]
        if len(workers) >= 2:
            break
        time.sleep(0.1)
    assert len(workers) >= 2, "no worker processes seen: " + (process.stderr.read() if process.poll() else "")
    time.sleep(1)
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
