"""dtl_import end to end: real ZIPs shaped like the published ones, a local HTTP mirror, re-evaluation, aggregation."""
import json
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from dlib_torch.importer import download
from dlib_torch.utils import aggregate_results
from dlib_torch.utils.errors import UserError

BIN = os.path.dirname(sys.executable)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_STUDY = os.path.join(REPO, "configs", "studies", "test")


def dtl(command, *args):
    return subprocess.run([os.path.join(BIN, command)] + list(args), capture_output=True, text=True, timeout=300)


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_a_published_zip_becomes_a_dlib_torch_model(published_zip, tmp_path, tf_outputs):
    source = published_zip(7, wrapper="7/")
    template = str(tmp_path / "out" / "{study}" / "{model_num}")
    run = dtl("dtl_import", "--zip=" + source, "--output_directory=" + template)
    assert run.returncode == 0, run.stderr
    model_dir = tmp_path / "out" / "unsupervised_study_v1" / "7" / "model"
    assert "-> {} (imported)".format(model_dir) in run.stdout

    encoder = torch.jit.load(str(model_dir / "exported" / "gaussian_encoder.pt"))
    decoder = torch.jit.load(str(model_dir / "exported" / "decoder.pt"))
    with torch.no_grad():
        means, log_vars = encoder(torch.from_numpy(tf_outputs["images"]))
        logits = decoder(torch.from_numpy(tf_outputs["latents"]))
    np.testing.assert_allclose(means.numpy(), tf_outputs["means"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(log_vars.numpy(), tf_outputs["log_vars"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(logits.numpy(), tf_outputs["logits"], rtol=0, atol=1e-5)

    record = _read_json(model_dir / "results" / "aggregate" / "import.json")
    assert record["train_config.model.model_num"] == "7"
    assert record["train_config.encoder.encoder_fn"] == "@conv_encoder"
    assert record["train_config.dataset.name"] == "'dsprites_full'"
    assert record["train_config.vae_optimizer.optimizer_fn"] == "@vae/AdamOptimizer"
    assert record["train_config.vae/AdamOptimizer.learning_rate"] == "0.0001"
    assert record["train_results.elbo"] == -24.5 and record["train_results.global_step"] == 300000
    assert record["import_results.source"] == "disentanglement_lib"
    assert record["import_results.variables"] == "model/tfhub/variables"
    assert record["import_results.dropped_train_bindings"] == ["export_as_tf_hub.drop_collections"]
    assert os.path.exists(model_dir / "results" / "aggregate" / "train.json")

    published = model_dir / "published"
    evaluation = _read_json(published / "metrics" / "mean" / "mig" / "results" / "aggregate" / "evaluation.json")
    assert evaluation["source"] == "disentanglement_lib" and evaluation["evaluation_results.discrete_mig"] == 0.1234
    with zipfile.ZipFile(source) as archive:
        assert (published / "visualizations" / "reconstructions" / "reconstructions.png").read_bytes() == \
            archive.read("7/visualizations/reconstructions/reconstructions.png")
    assert not os.path.exists(published / "postprocessed" / "mean" / "tfhub")  # TensorFlow files stay behind
    assert sorted(os.listdir(model_dir)) == [".dtl_manifest.jsonl", "exported", "published", "results"]

    before = os.stat(model_dir / "results" / "aggregate" / "import.json").st_mtime_ns
    again = dtl("dtl_import", "--zip=" + source, "--output_directory=" + template)
    assert again.returncode == 0, again.stderr
    assert "already imported; nothing to do" in again.stdout
    assert os.stat(model_dir / "results" / "aggregate" / "import.json").st_mtime_ns == before


def test_an_unpacked_directory_and_a_checkpoint_without_hub_module(published_zip, tmp_path, tf_outputs):
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(published_zip(3)) as archive:
        archive.extractall(unpacked)
    for name in os.listdir(unpacked / "model" / "tfhub" / "variables"):
        os.unlink(unpacked / "model" / "tfhub" / "variables" / name)
    run = dtl("dtl_import", "--zip=" + str(unpacked), "--output_directory=" + str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    record = _read_json(tmp_path / "out" / "model" / "results" / "aggregate" / "import.json")
    assert record["import_results.variables"] == "model/tf_checkpoint/model.ckpt-0"
    assert record["import_results.archive_sha256"] is None
    encoder = torch.jit.load(str(tmp_path / "out" / "model" / "exported" / "gaussian_encoder.pt"))
    means, _ = encoder(torch.from_numpy(tf_outputs["images"]))
    np.testing.assert_allclose(means.detach().numpy(), tf_outputs["means"], rtol=0, atol=1e-5)


def test_a_damaged_zip_is_one_line_and_leaves_nothing(published_zip, tmp_path):
    source = published_zip(1)
    data = open(source, "rb").read()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[:len(data) // 2])
    out = tmp_path / "out"
    run = dtl("dtl_import", "--zip=" + str(truncated), "--output_directory=" + str(out))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "dtl_import: error: {} is not a readable ZIP (truncated or damaged download?); fetch it again".format(
            truncated)]
    assert not os.path.exists(out)

    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo("model/tfhub/variables/variables.data-00000-of-00001")
    damaged = bytearray(data)
    damaged[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # inside the member's compressed data
    (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
    run = dtl("dtl_import", "--zip=" + str(tmp_path / "damaged.zip"), "--output_directory=" + str(out))
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "damaged" in run.stderr and "fetch the archive again" in run.stderr
    assert not os.path.exists(out)


def test_a_glob_imports_each_archive_into_its_model_number(published_zip, tmp_path):
    published_zip(3)
    published_zip(4)
    pattern = str(tmp_path / "*.zip")
    run = dtl("dtl_import", "--zip=" + pattern, "--output_directory=" + str(tmp_path / "one"))
    assert run.returncode == 2 and "has no {model_num} to tell them apart" in run.stderr
    run = dtl("dtl_import", "--zip=" + pattern, "--output_directory=" + str(tmp_path / "out" / "{model_num}"))
    assert run.returncode == 0, run.stderr
    for model_num in ("3", "4"):
        record = _read_json(tmp_path / "out" / model_num / "model" / "results" / "aggregate" / "import.json")
        assert record["train_config.model.model_num"] == model_num


def test_by_model_number_from_a_mirror_then_reevaluated_and_aggregated(published_zip, http_server, tmp_path):
    with open(published_zip(5), "rb") as f:
        http_server.files["unsupervised_study_v1/5.zip"] = f.read()
    root = tmp_path / "out"
    download_dir = tmp_path / "downloads"
    run = dtl("dtl_import", "--model_num=5", "--mirror=" + http_server.base_url + "/",
              "--download_dir=" + str(download_dir), "--output_directory=" + str(root / "{study}" / "{model_num}"))
    assert run.returncode == 0, run.stderr
    output = root / "unsupervised_study_v1" / "5"
    manifest = (download_dir / "dtl_download.sha256").read_text()
    record = _read_json(output / "model" / "results" / "aggregate" / "import.json")
    assert manifest == "{}  unsupervised_study_v1/5.zip\n".format(record["import_results.archive_sha256"])

    http_server.requests.clear()
    again = dtl("dtl_import", "--model_num=5", "--mirror=" + http_server.base_url + "/",
                "--download_dir=" + str(download_dir), "--output_directory=" + str(root / "{study}" / "{model_num}"))
    assert again.returncode == 0 and "already imported; nothing to do" in again.stdout
    assert http_server.requests == []  # nothing fetched again

    # Re-evaluate with one metric (on procedural dSprites: the tests have no dsprites_full file), then aggregate.
    run = dtl("dtl_postprocess", "--model_dir=" + str(output / "model"),
              "--output_dir=" + str(output / "postprocessed" / "mean"),
              "--gin_config=" + os.path.join(TEST_STUDY, "postprocess_configs", "mean.gin"),
              "--gin_bindings=dataset.name = 'dsprites_procedural'", "--gin_bindings=postprocess.name = 'mean'")
    assert run.returncode == 0, run.stderr
    run = dtl("dtl_evaluate", "--input_dir=" + str(output / "postprocessed" / "mean"),
              "--output_dir=" + str(output / "metrics" / "mean" / "mig"),
              "--gin_config=" + os.path.join(TEST_STUDY, "metric_configs", "mig.gin"),
              "--gin_bindings=evaluation.name = 'mig'")
    assert run.returncode == 0, run.stderr
    run = dtl("dtl_aggregate", "--result_file_pattern=" + str(root / "**" / "metrics" / "*" / "*" / "results" /
                                                              "aggregate" / "evaluation.json"),
              "--output_path=" + str(tmp_path / "results.json"))
    assert run.returncode == 0, run.stderr
    frame = aggregate_results.load_aggregated_json_results(str(tmp_path / "results.json"))
    assert len(frame) == 2
    published = frame[frame["source"] == "disentanglement_lib"]
    ours = frame[frame["source"].isna()]
    assert len(published) == 1 and len(ours) == 1
    assert published["evaluation_results.discrete_mig"].iloc[0] == pytest.approx(0.1234)  # via pandas
    assert 0 <= ours["evaluation_results.discrete_mig"].iloc[0] <= 1
    assert list(frame["train_config.model.model_num"].astype(str)) == ["5", "5"]
    assert ours["import_results.source"].iloc[0] == "disentanglement_lib"


def test_the_bucket_or_a_mirror_refusing_is_one_line(http_server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "BUCKET", http_server.base_url)  # stands in for the bucket; nothing leaves the host
    http_server.fail_next["unsupervised_study_v1/0.zip"] = 403
    with pytest.raises(UserError, match=r"answered HTTP 403: the disentanglement_lib bucket is reported unreachable "
                                        r"since 2026-03 \(google-research/disentanglement_lib#39\); import a local "
                                        r"copy with --zip=PATH or fetch from a mirror with --mirror=URL"):
        download.fetch_model("unsupervised_study_v1", 0, str(tmp_path), progress=False)
    assert download.model_url("unsupervised_study_v1", 12) == http_server.base_url + "/unsupervised_study_v1/12.zip"
    with pytest.raises(UserError, match=re.escape(http_server.base_url) + r"/unsupervised_study_v1/6.zip answered "
                       r"HTTP 404: model 6 of unsupervised_study_v1 is not there; check --mirror or --url$"):
        download.fetch_model("unsupervised_study_v1", 6, str(tmp_path), mirror=http_server.base_url, progress=False)
    assert [n for n in os.listdir(tmp_path / "unsupervised_study_v1") if "zip" in n] == []  # nothing partial left


@pytest.mark.parametrize("args, message", [
    ([], "pass either --zip=PATH (a ZIP, a directory or a glob) or --model_num=N to fetch one"),
    (["--zip=a.zip", "--mirror=http://x"], "--mirror and --url fetch by --model_num; they do not apply to --zip"),
    (["--model_num=1", "--mirror=http://x", "--url=http://y"], "pass --mirror=BASE_URL or --url=URL, not both"),
    (["--zip=/nonexistent/*.zip"], "--zip=/nonexistent/*.zip matches no file"),
])
def test_bad_flags_are_one_line(args, message):
    run = dtl("dtl_import", *args)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == ["dtl_import: error: " + message]


def test_a_fetched_file_that_is_not_a_zip_is_set_aside_and_fetched_again(published_zip, http_server, tmp_path):
    http_server.files["unsupervised_study_v1/3.zip"] = b"<html>a login page</html>" * 40
    downloads = tmp_path / "downloads"
    args = ["--model_num=3", "--mirror=" + http_server.base_url, "--download_dir=" + str(downloads),
            "--output_directory=" + str(tmp_path / "out")]
    run = dtl("dtl_import", *args)
    assert run.returncode == 2
    line = run.stderr.strip().splitlines()[-1]
    assert "is not a readable ZIP" in line and "3.zip.damaged" in line
    assert (downloads / "unsupervised_study_v1" / "3.zip.damaged").exists()
    assert not (downloads / "unsupervised_study_v1" / "3.zip").exists()
    with open(published_zip(3), "rb") as f:
        http_server.files["unsupervised_study_v1/3.zip"] = f.read()
    run = dtl("dtl_import", *args)  # the next run fetches it again
    assert run.returncode == 0, run.stderr


def test_a_refetch_with_another_digest_is_refused_unless_forced(published_zip, http_server, tmp_path):
    with open(published_zip(4), "rb") as f:
        first = f.read()
    http_server.files["unsupervised_study_v1/4.zip"] = first
    downloads = tmp_path / "downloads"
    args = ["--model_num=4", "--mirror=" + http_server.base_url, "--download_dir=" + str(downloads)]
    assert dtl("dtl_import", *args, "--output_directory=" + str(tmp_path / "a")).returncode == 0
    os.remove(downloads / "unsupervised_study_v1" / "4.zip")
    with open(published_zip(4, wrapper="4/", name="other.zip"), "rb") as f:
        http_server.files["unsupervised_study_v1/4.zip"] = f.read()  # the host now serves other bytes
    run = dtl("dtl_import", *args, "--output_directory=" + str(tmp_path / "b"))
    assert run.returncode == 2
    line = run.stderr.strip().splitlines()[-1]
    assert "not the" in line and "recorded when it was first fetched" in line and "--force" in line
    assert (downloads / "unsupervised_study_v1" / "4.zip.rejected").exists()
    run = dtl("dtl_import", *args, "--output_directory=" + str(tmp_path / "b"), "--force")
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("study", ["../x", "a/b", ".."])
def test_a_study_name_that_would_leave_the_folders_is_refused(study, tmp_path):
    run = dtl("dtl_import", "--model_num=1", "--study=" + study, "--download_dir=" + str(tmp_path / "d"),
              "--output_directory=" + str(tmp_path / "out" / "{study}"))
    assert run.returncode == 2
    assert "is not a study name" in run.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "x").exists() and not (tmp_path / "d").exists()


def test_a_download_dir_that_is_a_file_is_one_line(http_server, tmp_path):
    blocker = tmp_path / "downloads"
    blocker.write_text("a file of the user's")
    run = dtl("dtl_import", "--model_num=1", "--mirror=" + http_server.base_url, "--download_dir=" + str(blocker),
              "--output_directory=" + str(tmp_path / "out"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert str(blocker) in run.stderr.strip().splitlines()[-1]
    assert blocker.read_text() == "a file of the user's"
