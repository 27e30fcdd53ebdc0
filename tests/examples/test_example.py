"""Tests of dlib_torch/examples/example.py: it runs, and the custom model trains with its own regulariser."""
import json
import os
import subprocess
import sys


def test_example_trains_the_standard_and_the_custom_model(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "dlib_torch.examples.example", str(tmp_path)],
                               capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count("mean representation of 8 images has shape (8, 10)") == 2
    with open(tmp_path / "BottleneckVAE" / "model" / "results" / "aggregate" / "train.json") as f:
        record = json.load(f)
    assert record["train_config.model.model"] == "@BottleneckVAE()"
    assert record["train_config.BottleneckVAE.target"] == "10.0"
    # regularizer = gamma * |KL - target| = 4 * (10 - KL) while the KL of a barely trained model stays below 10.
    kl = record["train_results.kl_loss"]
    assert kl < 10
    assert abs(record["train_results.regularizer"] - 4 * (10 - kl)) < 1e-4 * 40
    assert abs(record["train_results.loss"] - record["train_results.reconstruction_loss"]
               - record["train_results.regularizer"]) < 1e-3 * record["train_results.loss"]
