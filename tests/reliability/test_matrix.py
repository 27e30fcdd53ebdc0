"""The reliability matrix: every command of command_registry.REGISTRY against every failure class (DESIGN §8).

Classes: a rerun, an --overwrite and an unfinished rerun with user files beside the outputs (some of them
named like temporary files), an output path that is a file, a read-only output, a full disk, flag errors,
SIGTERM and SIGINT, and a damaged input of the command's kind. Each case checks the exit status, that a
failure is one line without a traceback, and that every file present before the run (the user's and the
inputs) is byte-for-byte intact; a successful run must list everything it wrote in its manifest.
"""
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time

import pytest

import command_registry
from command_registry import BY_NAME, Context, OVERWRITE_ARGS, REGISTRY
from reliability_tools import ENV, MEAN_GIN, TRAIN_GIN, assert_manifest_lists_everything, command, \
    one_line_error, published_model_files, run, snapshot

CLASSES = ["rerun_with_user_files", "overwrite_with_user_files", "unfinished_rerun_with_user_files",
           "output_is_a_file", "read_only_output", "full_disk", "flag_errors", "sigterm", "sigint",
           "damaged_input"]
# What users leave beside outputs: notes, a folder of their own, and files that merely look temporary.
USER_FILES = {"NOTES.md": b"my notes", ".backup.tmp": b"a backup", ".cache.tmp/.x.tmp": b"a cache",
              "mine/data.bin": b"\x00\x01\x02"}


def _applicable(command_spec, case):
    if case == "overwrite_with_user_files":
        return command_spec.overwrite is not None
    if case == "unfinished_rerun_with_user_files":
        return command_spec.unfinished is not None
    if case == "damaged_input":
        return command_spec.damaged is not None
    return True


CASES = [(c.name, case) for c in REGISTRY for case in CLASSES if _applicable(c, case)]


def test_every_installed_command_is_in_the_matrix():
    with open(os.path.join(command_registry.REPO, "setup.py"), encoding="utf-8") as f:
        installed = {line.split('"')[1] for line in f if line.strip().startswith('"dtl_')}
    assert installed == set(BY_NAME), "commands missing from the matrix: {}".format(installed ^ set(BY_NAME))


def test_the_matrix_size():
    """The size the documentation states (docs/output-directories.md): commands x classes, less inapplicable pairs."""
    assert len(REGISTRY) == 17 and len(CLASSES) == 10
    assert len(CASES) == 17 * 10 - sum(not _applicable(c, k) for c in REGISTRY for k in CLASSES)


# --- session inputs, built once and shared by the test workers --------------------------------------------

@pytest.fixture(scope="session")
def inputs(tmp_path_factory, trained_model):
    """{name: path} of the finished inputs the commands read; pipelines are built lazily, once per test run
    (shared by pytest-xdist workers through a lock in the common temporary folder)."""
    shared = tmp_path_factory.getbasetemp().parent / "reliability_inputs"
    shared.mkdir(exist_ok=True)
    return _Inputs(str(shared), trained_model)


class _Inputs(dict):
    def __init__(self, root, trained_model):
        super().__init__()
        self.root = root
        self.update(trained_model)
        self.builders = {
            "model_seed1": self._second_model, "unfinished_model": self._unfinished_model,
            "abstract_mean": self._abstract_representation,
            "mig_records": self._mig_records, "aggregated": self._aggregated, "published_zip": self._published_zip,
            "reproduced": lambda path: self._pipeline("dtl_reproduce", path),
            "weak_reproduced": lambda path: self._pipeline("dtl_reproduce_weakly_supervised", path),
            "semi_reproduced": lambda path: self._pipeline("dtl_reproduce_semi_supervised", path),
        }

    def __missing__(self, name):
        path = os.path.join(self.root, name.replace(":", "_"))
        with open(os.path.join(self.root, name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(path + ".done"):
                builder = self.builders.get(name) or (lambda p: self._finished(name.split(":", 1)[1], p))
                builder(path)
                open(path + ".done", "w").close()
        self[name] = path
        return path

    def _second_model(self, path):
        completed = run("dtl_train", "--model_dir=" + path, "--gin_config=" + TRAIN_GIN,
                        "--gin_bindings=model.random_seed = 1")
        assert completed.returncode == 0, completed.stderr

    def _abstract_representation(self, path):
        """The mean representation of the test study's model trained on procedural abstract dSprites (RGB), the
        data set of the PGMs dtl_reason draws."""
        model = path + "_model"
        completed = run("dtl_train", "--model_dir=" + model, "--gin_config=" + TRAIN_GIN,
                        "--gin_bindings=dataset.name = 'abstract_dsprites_procedural'")
        assert completed.returncode == 0, completed.stderr
        completed = run("dtl_postprocess", "--model_dir=" + model, "--output_dir=" + path, "--gin_config=" + MEAN_GIN)
        assert completed.returncode == 0, completed.stderr

    def _unfinished_model(self, path):
        import shutil
        shutil.copytree(self["model"], path)
        command_registry.mark_unfinished("train")(path)

    def _mig_records(self, path):
        import shutil
        shutil.copytree(self["mig"], os.path.join(path, "model0", "mig"))

    def _aggregated(self, path):
        completed = run("dtl_aggregate", "--result_file_pattern=" + os.path.join(self["mig_records"], "**",
                                                                                 "evaluation.json"),
                        "--output_path=" + path)
        assert completed.returncode == 0, completed.stderr

    def _published_zip(self, path):
        import zipfile
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(published_model_files(0).items()):
                archive.writestr(name, data)

    def _finished(self, name, root):
        """A finished output of command `name`, made in `root` as a case makes it in its own folder."""
        spec = BY_NAME[name]
        context = Context(root, self)
        os.makedirs(root)
        completed = run(name, *spec.args(context, spec.output(context)), timeout=900, env=_env())
        assert completed.returncode == 0, completed.stderr

    def _pipeline(self, name, path):
        spec = BY_NAME[name]
        completed = run(name, *spec.args(Context(os.path.dirname(path), self), path), timeout=900)
        assert completed.returncode == 0, completed.stderr


@pytest.fixture
def ctx(tmp_path, inputs, request):
    server = None
    if request.node.callspec.params["name"] == "dtl_download":
        server = request.getfixturevalue("http_server")
        server.files["mpi3d_toy.npz"] = request.getfixturevalue("small_sources")["files"]["mpi3d_toy.npz"]
    return Context(tmp_path, inputs, server)


# --- the cases ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,case", CASES)
def test_matrix(name, case, ctx):
    spec = BY_NAME[name]
    globals()["_" + case](spec, ctx)


def _finished_output(spec, ctx):
    """A finished output of the command: a copy of one made once per test run (dtl_download, which needs this
    case's server, runs here)."""
    if spec.prepared is not None:
        return spec.prepared(ctx)
    output = spec.output(ctx)
    if spec.name == "dtl_download":
        completed = _run(spec, spec.args(ctx, output))
        assert completed.returncode == 0, completed.stderr
        return output
    made = ctx.inputs["finished:" + spec.name]
    shutil.copytree(made, ctx.tmp, symlinks=True, dirs_exist_ok=True)
    return output


def _run(spec, args, **kwargs):
    return run(spec.name, *args, timeout=spec.timeout, env=_env(), **kwargs)


def _env():
    return dict(ENV, DISENTANGLEMENT_LIB_DATA=os.environ["DISENTANGLEMENT_LIB_DATA"], DTL_NUM_JOBS="1")


def _add_user_files(directory, extra_folder=None):
    """Writes USER_FILES into `directory` (and a note into `extra_folder`, one of the command's own folders)."""
    added = dict(USER_FILES)
    if extra_folder is not None and os.path.isdir(os.path.join(directory, extra_folder)):
        added[extra_folder + "/USER_NOTE.txt"] = b"a note among the outputs"
    for relative, data in added.items():
        path = os.path.join(directory, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return added


def _assert_user_files_intact(directory, added):
    for relative, data in added.items():
        with open(os.path.join(directory, *relative.split("/")), "rb") as f:
            assert f.read() == data, relative


def _check_rerun(spec, ctx, output, args, expected_status):
    owned = spec.owned_dir(output)
    added = _add_user_files(owned, "results")
    inputs_before = _inputs_snapshot(ctx, output)
    completed = _run(spec, args)
    assert completed.returncode == expected_status, completed.stderr
    if expected_status:
        assert "--overwrite" in one_line_error(completed, spec.name)
    _assert_user_files_intact(owned, added)
    assert _inputs_snapshot(ctx, output) == inputs_before
    if os.path.exists(os.path.join(owned, ".dtl_manifest.jsonl")):
        assert_manifest_lists_everything(owned, added)
    return completed


def _rerun_with_user_files(spec, ctx):
    output = _finished_output(spec, ctx)
    _check_rerun(spec, ctx, output, spec.args(ctx, output), spec.finished_rerun)


def _overwrite_with_user_files(spec, ctx):
    output = _finished_output(spec, ctx)
    extra = OVERWRITE_ARGS.get(spec.name, [spec.overwrite])
    _check_rerun(spec, ctx, output, spec.args(ctx, output) + extra, 0)


def _unfinished_rerun_with_user_files(spec, ctx):
    output = _finished_output(spec, ctx)
    spec.unfinished(output)
    _check_rerun(spec, ctx, output, spec.args(ctx, output), 0)


def _output_is_a_file(spec, ctx):
    output = spec.output(ctx)
    blocker = os.path.dirname(output) if spec.single_file else output
    os.makedirs(os.path.dirname(blocker), exist_ok=True)
    with open(blocker, "w") as f:
        f.write("a file of the user's")
    completed = _run(spec, spec.args(ctx, output))
    assert completed.returncode == 2, completed.stderr
    one_line_error(completed, spec.name)
    with open(blocker) as f:
        assert f.read() == "a file of the user's"


@contextlib.contextmanager
def _mounted_tmpfs(path, size_bytes):
    os.makedirs(path)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size={}".format(size_bytes), "tmpfs", path],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a tmpfs (CI runs as root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=True)


def _on_disk(spec, ctx, disk):
    """The command's output moved onto `disk`: (output, args)."""
    output = os.path.join(disk, os.path.relpath(spec.output(ctx), ctx.tmp))
    return output, spec.args(ctx, output)


def _read_only_output(spec, ctx):
    with _mounted_tmpfs(ctx.path("ro"), 1 << 20) as disk:
        with open(os.path.join(disk, "NOTES.md"), "w") as f:
            f.write("mine")
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
        output, args = _on_disk(spec, ctx, disk)
        completed = _run(spec, args)
        assert completed.returncode == 2, completed.stderr
        line = one_line_error(completed, spec.name)
        assert "Read-only file system" in line or "read-only" in line, line
        with open(os.path.join(disk, "NOTES.md")) as f:
            assert f.read() == "mine"


def _full_disk(spec, ctx):
    with _mounted_tmpfs(ctx.path("full"), 64 * 1024) as disk:
        filler = os.path.join(disk, "user_data.bin")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\x07" * 4096)
        os.close(fd)
        size = os.path.getsize(filler)
        output, args = _on_disk(spec, ctx, disk)
        completed = _run(spec, args)
        assert completed.returncode == 2, completed.stderr
        line = one_line_error(completed, spec.name)
        assert "No space left on device" in line or "no space left" in line.lower(), line
        assert os.path.getsize(filler) == size
        with open(filler, "rb") as f:
            assert set(f.read()) == {7}


def _flag_errors(spec, ctx):
    output = spec.output(ctx)
    for extra, words in ((["--no_such_flag=1"], "no_such_flag"), (["--wait_for_lock=maybe"], "wait_for_lock")):
        started = time.monotonic()
        completed = _run(spec, spec.args(ctx, output) + extra)
        assert completed.returncode == 2, completed.stderr
        line = one_line_error(completed, spec.name)
        assert words in line and "FATAL" not in completed.stderr, completed.stderr
        assert not os.path.exists(output), "a flag error must be refused before anything is written"
        assert time.monotonic() - started < 60


def _sigterm(spec, ctx):
    _signal_case(spec, ctx, signal.SIGTERM, 75, "preempted")


def _sigint(spec, ctx):
    _signal_case(spec, ctx, signal.SIGINT, 130, "interrupted")


def _signal_case(spec, ctx, signum, status, label):
    """The command waits for the lock of its output (held here); the signal then reaches it mid-run."""
    output = spec.output(ctx)
    if spec.name == "dtl_download":
        lock_path, extra = os.path.join(output, ".dtl_download_root.lock"), []
    else:
        lock_path, extra = os.path.join(spec.lock_dir(output), ".dtl_lock"), ["--wait_for_lock"]
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        process = subprocess.Popen(command(spec.name, *spec.args(ctx, output), *extra), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=_env(),
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            _wait_until_blocked_on_a_lock(process)
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith(spec.name + ": ")]
    assert len(lines) == 1 and lines[0].startswith("{}: {}: ".format(spec.name, label)), stderr


def _wait_until_blocked_on_a_lock(process, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            with open("/proc/{}/wchan".format(process.pid)) as f:
                if "lock" in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the command never waited for the lock")


def _damaged_input(spec, ctx):
    output = spec.output(ctx)
    args, words = spec.damaged(ctx, output)
    before = snapshot(ctx.tmp)
    completed = _run(spec, args)
    if spec.name == "dtl_aggregate":  # a sweep's unreadable record is skipped and named, the rest aggregated
        assert completed.returncode == 0, completed.stderr
        text = completed.stdout + completed.stderr
        assert all(w in text for w in words) and "hostile" in text, text
        return
    assert completed.returncode == 2, completed.stderr
    line = one_line_error(completed, spec.name)
    assert all(w in line for w in words), line
    after = snapshot(ctx.tmp)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing that was there changed


def _inputs_snapshot(ctx, output):
    """Digests of every session input (they must never change)."""
    return {name: snapshot(path) if os.path.isdir(path) else _file_digest(path)
            for name, path in list(ctx.inputs.items()) if isinstance(path, str) and os.path.exists(path)
            and not path.startswith(output)}


def _file_digest(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
