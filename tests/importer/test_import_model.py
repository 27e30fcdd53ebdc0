"""The import stage in process: the layouts it accepts and what it records."""
import json
import os

import numpy as np
import pytest
import torch

from dlib_torch.importer import import_model
from dlib_torch.utils.errors import UserError


def _write(directory, files):
    for name, data in files.items():
        path = os.path.join(directory, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return str(directory)


@pytest.mark.parametrize("layout", ["dlib_train", "weakly_supervised"])
def test_a_model_directory_as_the_trainers_wrote_it(layout, published_files, tmp_path, tf_outputs):
    files = {name[len("model/"):]: data for name, data in published_files(9).items() if name.startswith("model/")}
    if layout == "weakly_supervised":  # the estimator's files in the model directory itself, no TF-Hub module
        files = {name.replace("tf_checkpoint/", ""): data for name, data in files.items() if "tfhub" not in name}
    source = _write(tmp_path / "model_dir", files)
    assert import_model.model_number(source) == 9
    assert import_model.import_model(source, str(tmp_path / "out")) == "imported"
    with open(tmp_path / "out" / "model" / "results" / "aggregate" / "import.json", encoding="utf-8") as f:
        record = json.load(f)
    assert record["import_results.variables"] == \
        ("model/tfhub/variables" if layout == "dlib_train" else "model/model.ckpt-0")
    assert record["import_results.num_published_files"] == 0
    encoder = torch.jit.load(str(tmp_path / "out" / "model" / "exported" / "gaussian_encoder.pt"))
    with torch.no_grad():
        means, _ = encoder(torch.from_numpy(tf_outputs["images"]))
    np.testing.assert_allclose(means.numpy(), tf_outputs["means"], rtol=0, atol=1e-5)
    assert import_model.import_model(source, str(tmp_path / "out")) == "skipped"


def test_what_is_not_a_model_is_refused(published_files, tmp_path):
    with pytest.raises(UserError, match="holds no model/results/gin/train.gin; it is not a model written by"):
        import_model.import_model(_write(tmp_path / "empty", {"a.txt": b"x"}), str(tmp_path / "out"))
    files = {name: data for name, data in published_files(2).items() if "tfhub/variables" not in name
             and "tf_checkpoint" not in name}
    with pytest.raises(UserError, match="holds neither model/tfhub/variables/variables.index nor a "
                                        "model/tf_checkpoint/model.ckpt-"):
        import_model.import_model(_write(tmp_path / "no_variables", files), str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")
    source = _write(tmp_path / "out" / "model" / "unpacked", published_files(2))
    with pytest.raises(UserError, match="contains the input"):
        import_model.import_model(source, str(tmp_path / "out"))
