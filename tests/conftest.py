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


@pytest.fixture
def clean_gin():
    """gin's global config cleared before and after the test (modules: `pytestmark = usefixtures("clean_gin")`)."""
    import gin
    gin.clear_config()
    yield
    gin.clear_config()


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
class _FileServer:
    """A real HTTP server on 127.0.0.1 serving `files` (path -> bytes), with Range/If-Range and fault injection."""

    def __init__(self):
        import http.server
        import threading
        self.files = {}
        self.requests = []      # (path, Range header, If-Range header) of every GET
        self.drop_after = {}    # path -> bytes after which the next response for it breaks off
        self.fail_next = {}     # path -> HTTP status to answer the next request for it with
        self.delay = 0.0        # seconds to wait before answering each request
        self.no_length = set()  # paths answered without Content-Length (the end of the body is the connection's)
        self.no_ranges = set()  # paths answered whole, whatever Range asks for
        self.bad_length = set()  # paths answered with a Content-Length that is not a number
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                import hashlib
                import re
                import time
                path = self.path.lstrip("/")
                server.requests.append((path, self.headers.get("Range"), self.headers.get("If-Range")))
                time.sleep(server.delay)
                if path in server.fail_next:
                    self.send_error(server.fail_next.pop(path))
                    return
                if path not in server.files:
                    self.send_error(404)
                    return
                data = server.files[path]
                etag = '"{}"'.format(hashlib.sha256(data).hexdigest()[:16])
                match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
                if_range = self.headers.get("If-Range")
                start = int(match.group(1)) if match and if_range in (None, etag) else 0
                start = 0 if path in server.no_ranges else start
                if start >= len(data) and start > 0:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */{}".format(len(data)))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", "bytes {}-{}/{}".format(start, len(data) - 1, len(data)))
                if path in server.bad_length:
                    self.send_header("Content-Length", "lots")
                    self.close_connection = True
                elif path not in server.no_length:
                    self.send_header("Content-Length", str(len(data) - start))
                self.send_header("ETag", etag)
                self.end_headers()
                body = data[start:]
                drop = server.drop_after.pop(path, None)
                try:
                    self.wfile.write(body if drop is None else body[:drop])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up on this response
                    pass
                if drop is not None:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()
        self.base_url = "http://127.0.0.1:{}".format(self.httpd.server_address[1])

    def url(self, path):
        return self.base_url + "/" + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server(monkeypatch):
    """A real HTTP server on 127.0.0.1, started in a thread; proxies are bypassed for it."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = _FileServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def small_sources(tmp_path_factory):
    """Small files in the published format of every real data set, named as their hosts name them.

    Returns {"files": {file name: bytes}, <data set>: {"grid": ..., "images": ...}, ...}; see `_write_sources`.
    """
    return _write_sources(str(tmp_path_factory.mktemp("small_sources")))


def _write_sources(directory):
    import numpy as np
    from dlib_torch.data.ground_truth import synthetic_files
    from dlib_torch.data.ground_truth import util
    rs = np.random.RandomState(0)
    info = {}

    def path(name):
        return os.path.join(directory, name)

    grid = [1, 3, 2, 4, 2, 3]
    images = (rs.rand(int(np.prod(grid)), 64, 64) > 0.7).astype(np.uint8)
    synthetic_files.write_dsprites_npz(path("dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"), grid,
                                       lambda a, b: images[a:b])
    info["dsprites"] = {"grid": grid, "images": images}

    scream = rs.randint(0, 256, (300, 240, 3)).astype(np.uint8)
    synthetic_files.write_jpg(path("The_Scream.jpg"), scream)

    grid = [2, 3, 2, 3, 2]
    features = util.rows_to_factors(rs.permutation(int(np.prod(grid))), grid)
    images = rs.randint(0, 256, (len(features), 2, 96, 96)).astype(np.uint8)
    synthetic_files.write_smallnorb(directory, features, lambda a, b: images[a:b], gz=True)
    info["smallnorb"] = {"grid": grid, "features": features, "images": images}

    names = ["car_007_mesh", "car_002_mesh", "car_010_mesh"]
    views = [rs.randint(0, 256, (64, 64, 3, 5, 2)).astype(np.uint8) for _ in names]
    synthetic_files.write_cars_tarball(path("nips2015-analogy-data.tar.gz"), names, lambda i: views[i])
    info["cars3d"] = {"grid": [2, 5, 3], "views": {name: v for name, v in zip(names, views)}}

    grid = [2, 3, 2, 1, 2, 3, 2]
    images = rs.randint(0, 256, (int(np.prod(grid)), 64, 64, 3)).astype(np.uint8)
    for mode in ["mpi3d_toy", "mpi3d_realistic", "mpi3d_real"]:
        synthetic_files.write_mpi3d_npz(path(mode + ".npz"), len(images), lambda a, b: images[a:b], compress=True)
    info["mpi3d"] = {"grid": grid, "images": images}

    grid = [2, 3, 2, 2, 2, 3]
    images = rs.randint(0, 256, (int(np.prod(grid)), 64, 64, 3)).astype(np.uint8)
    synthetic_files.write_shapes3d_h5(path("3dshapes.h5"), grid, lambda a, b: images[a:b])
    info["shapes3d"] = {"grid": grid, "images": images}

    info["files"] = {}
    for name in os.listdir(directory):
        with open(path(name), "rb") as f:
            info["files"][name] = f.read()
    return info
