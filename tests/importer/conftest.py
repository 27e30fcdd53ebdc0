"""A model directory and ZIP shaped like disentanglement_lib's published ones, around the TF-made fixture.

The layout and JSON records follow the reference's dlib_reproduce (its §2): model/{tfhub,tf_checkpoint,results},
visualizations/, postprocessed/<p>/{tfhub,results}, metrics/<p>/<m>/results, each results/ with gin/, json/
and aggregate/ (keys namespaced "<file stem>.<key>"). The variables are tests/fixtures/tf_conv_model, written
by the reference's own architecture code (tests/fixtures/make_tf_fixture.py).
"""
import io
import json
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "tf_conv_model")
CHECKPOINT = "model.ckpt-0"

# The operative train.gin disentanglement_lib wrote for a BetaVAE of unsupervised_study_v1 (model_num filled in).
TRAIN_GIN = """# Parameters for vae/AdamOptimizer:
# ==============================================================================
vae/AdamOptimizer.beta1 = 0.9
vae/AdamOptimizer.beta2 = 0.999
vae/AdamOptimizer.epsilon = 1e-08
vae/AdamOptimizer.learning_rate = 0.0001
vae/AdamOptimizer.name = 'Adam'
vae/AdamOptimizer.use_locking = False

# Parameters for bernoulli_loss:
# ==============================================================================
bernoulli_loss.subtract_true_image_entropy = False

# Parameters for dataset:
# ==============================================================================
dataset.name = 'dsprites_full'

# Parameters for decoder:
# ==============================================================================
decoder.decoder_fn = @deconv_decoder

# Parameters for encoder:
# ==============================================================================
encoder.encoder_fn = @conv_encoder
encoder.num_latent = 10

# Parameters for export_as_tf_hub:
# ==============================================================================
export_as_tf_hub.drop_collections = None

# Parameters for model:
# ==============================================================================
model.batch_size = 64
model.eval_steps = 1000
model.model = @vae()
model.model_num = {model_num}
model.name = 'beta_vae'
model.random_seed = 0
model.training_steps = 300000

# Parameters for reconstruction_loss:
# ==============================================================================
reconstruction_loss.activation = 'logits'
reconstruction_loss.loss_fn = @bernoulli_loss

# Parameters for vae:
# ==============================================================================
vae.beta = 1.0

# Parameters for vae_optimizer:
# ==============================================================================
vae_optimizer.learning_rate = None
vae_optimizer.optimizer_fn = @vae/AdamOptimizer
"""
POSTPROCESS_GIN = """# Parameters for dataset:
# ==============================================================================
dataset.name = 'dsprites_full'

# Parameters for postprocess:
# ==============================================================================
postprocess.name = 'mean'
postprocess.postprocess_fn = @mean_representation
postprocess.random_seed = 2357136044
"""
EVALUATION_GIN = """# Parameters for dataset:
# ==============================================================================
dataset.name = 'dsprites_full'

# Parameters for discretizer:
# ==============================================================================
discretizer.discretizer_fn = @histogram_discretizer
discretizer.num_bins = 20

# Parameters for evaluation:
# ==============================================================================
evaluation.evaluation_fn = @mig
evaluation.name = 'mig'
evaluation.random_seed = 3638918503

# Parameters for mig:
# ==============================================================================
mig.batch_size = 16
mig.num_train = 10000
"""
PUBLISHED_MIG = 0.1234


@pytest.fixture
def tf_outputs():
    """The outputs TensorFlow computed with the fixture's variables (see make_tf_fixture.py)."""
    with np.load(os.path.join(FIXTURE_DIR, "outputs.npz")) as outputs:
        return {key: outputs[key] for key in outputs.files}


def _gin_dict(text):
    return {line.split(" = ", 1)[0]: line.split(" = ", 1)[1] for line in text.splitlines()
            if line and not line.startswith("#") and " = " in line}


def _results(files, prefix, steps):
    """The results/ of a directory after `steps` [(step, gin text, results dict)], as the reference writes them."""
    records = {}
    for step, gin_text, step_results in steps:
        files[prefix + "results/gin/{}.gin".format(step)] = gin_text.encode()
        records[step + "_config"] = _gin_dict(gin_text)
        records[step + "_results"] = step_results
        for name, content in records.items():
            files[prefix + "results/json/{}.json".format(name)] = json.dumps(content, indent=2).encode()
        aggregate = {"{}.{}".format(name, key): value for name, content in sorted(records.items())
                     for key, value in content.items()}
        files[prefix + "results/aggregate/{}.json".format(step)] = json.dumps(aggregate, indent=2).encode()


def _png(seed):
    image = np.random.RandomState(seed).randint(0, 256, (8, 8, 3)).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def published_files(model_num=0):
    """{path: bytes} of one published model's output directory."""
    files = {}
    with open(os.path.join(FIXTURE_DIR, CHECKPOINT + ".index"), "rb") as f:
        index = f.read()
    with open(os.path.join(FIXTURE_DIR, CHECKPOINT + ".data-00000-of-00001"), "rb") as f:
        data = f.read()
    with open(os.path.join(FIXTURE_DIR, "checkpoint"), "rb") as f:  # as tf.train.Saver wrote it: absolute paths
        files["model/tf_checkpoint/checkpoint"] = f.read()
    files["model/tf_checkpoint/{}.index".format(CHECKPOINT)] = index
    files["model/tf_checkpoint/{}.data-00000-of-00001".format(CHECKPOINT)] = data
    files["model/tfhub/tfhub_module.pb"] = b"\x08\x03"
    files["model/tfhub/variables/variables.index"] = index
    files["model/tfhub/variables/variables.data-00000-of-00001"] = data
    train = ("train", TRAIN_GIN.replace("{model_num}", str(model_num)),
             {"elbo": -24.5, "loss": 25.0, "reconstruction_loss": 20.0, "regularizer": 5.0, "kl_loss": 5.0,
              "global_step": 300000, "elapsed_time": 3600.0, "uuid": "published-train-{}".format(model_num)})
    _results(files, "model/", [train])
    files["visualizations/reconstructions/reconstructions.png"] = _png(1)
    files["visualizations/traversals/traversals0.png"] = _png(2)
    postprocess = ("postprocess", POSTPROCESS_GIN, {"elapsed_time": 2.0, "uuid": "published-postprocess"})
    files["postprocessed/mean/tfhub/variables/variables.index"] = b"not copied"
    _results(files, "postprocessed/mean/", [train, postprocess])
    evaluation = ("evaluation", EVALUATION_GIN,
                  {"discrete_mig": PUBLISHED_MIG, "elapsed_time": 30.0, "uuid": "published-evaluation"})
    _results(files, "metrics/mean/mig/", [train, postprocess, evaluation])
    return files


def write_zip(path, files, wrapper=""):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(wrapper + name, data)
    return str(path)


@pytest.fixture(name="published_files")
def published_files_fixture():
    """`published_files(model_num)`: {path: bytes} of a published model's output directory."""
    return published_files


@pytest.fixture
def tf_fixture_dir():
    return FIXTURE_DIR


@pytest.fixture
def published_zip(tmp_path):
    """Factory: `published_zip(model_num=0, wrapper="")` writes a published-shaped ZIP and returns its path."""
    def make(model_num=0, wrapper="", name=None):
        return write_zip(tmp_path / (name or "{}.zip".format(model_num)), published_files(model_num), wrapper)
    return make
