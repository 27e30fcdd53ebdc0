"""Benchmark of the data sets: time to build, ms per batch of 64 random observations, peak resident memory.

For the file-backed data sets it first writes files of the real shapes and dtypes (synthetic content) in a
temporary data root, converts them into their caches (timed, peak memory measured) and deletes them when done.
Each measurement runs in a fresh process, so its peak resident memory (VmHWM) is its own. The batch time is
compared with one training step of the reference conv VAE at batch 64 (target: under 5%).

Run: python benchmarks/bench_data.py              # everything: about 20 GB of free disk, 15 minutes
     python benchmarks/bench_data.py --datasets=dsprites_full,mpi3d_real --batches=1000 --mpi3d_real_size=172800
     python benchmarks/bench_data.py --datasets=mpi3d_real --cold   # rows read from disk, not the page cache
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

PROCEDURAL = ["dsprites_procedural", "color_dsprites_procedural", "noisy_dsprites_procedural",
              "abstract_dsprites_procedural", "scream_dsprites_procedural"]
FILE_BACKED = ["dsprites_full", "dsprites_noshape", "color_dsprites", "noisy_dsprites", "scream_dsprites",
               "abstract_dsprites", "smallnorb", "cars3d", "mpi3d_toy", "mpi3d_realistic", "mpi3d_real", "shapes3d"]
# The generated files each data set reads (keys of `write_files`).
FILES_OF = {"dsprites_full": ["dsprites"], "dsprites_noshape": ["dsprites"], "color_dsprites": ["dsprites"],
            "noisy_dsprites": ["dsprites"], "abstract_dsprites": ["dsprites"],
            "scream_dsprites": ["dsprites", "scream"], "scream_dsprites_procedural": ["scream"],
            "smallnorb": ["smallnorb"], "cars3d": ["cars3d"], "mpi3d_toy": ["mpi3d_toy"],
            "mpi3d_realistic": ["mpi3d_realistic"], "mpi3d_real": ["mpi3d_real"], "shapes3d": ["shapes3d"]}
COMPETITION_MPI3D_SIZE = 460800  # the reference's mpi3d_toy / mpi3d_realistic subsets
MPI3D_GRID_TAIL = [6, 2, 3, 3, 40, 40]  # a smaller mpi3d_real file keeps this and has fewer object colours
MPI3D_COLOR_IMAGES = 172800  # images per object colour
FREE_SPACE_MARGIN = 5e9


# ---------------------------------------------------------------- the reference training step

def make_training_step(num_channels, batch_size=64, num_latent=10):
    """One training step of dtl_train's reference conv VAE (conv_encoder, deconv_decoder, Bernoulli loss,
    beta = 1, Adam), as `trainer.optimization_step` runs it.

    Returns step(images) for images [batch, 64, 64, num_channels] in [0, 1].
    """
    import gin
    import torch
    from dlib_torch.training import trainer

    gin.clear_config()
    gin.parse_config([
        "encoder.num_latent = {}".format(num_latent), "encoder.encoder_fn = @conv_encoder",
        "decoder.decoder_fn = @deconv_decoder", "reconstruction_loss.loss_fn = @bernoulli_loss",
        "vae_optimizer.optimizer_fn = @AdamOptimizer", "AdamOptimizer.learning_rate = 0.0001", "vae.beta = 1."])
    torch.manual_seed(0)
    model = gin.get_configurable("vae")()
    model.build([64, 64, num_channels], [1])
    optimizers = model.make_optimizers()  # the gin config stays: the losses read it at every step
    global_step = [0]

    def step(images):
        trainer.optimization_step(model, optimizers, torch.from_numpy(images), None, global_step[0])
        global_step[0] += 1

    return step


def training_step_ms(num_channels, steps=20):
    """Fastest wall time of one training step at batch 64, after warm-up steps.

    The fastest (not the median) step, so that on a busy machine the batch/step ratio errs on the high side.
    """
    step = make_training_step(num_channels)
    images = np.random.RandomState(0).rand(64, 64, 64, num_channels).astype(np.float32)
    for _ in range(3):
        step(images)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step(images)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.min(times))


# ---------------------------------------------------------------- files of the real shapes

def _smooth_pool(num, shape, seed):
    """`num` smooth random uint8 images of `shape` (compress about as well as renderings do)."""
    rs = np.random.RandomState(seed)
    coarse = rs.rand(num, shape[0] // 8, shape[1] // 8, *shape[2:]) * 255
    return np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2).astype(np.uint8)


def _pool_rows(pool):
    return lambda start, stop: pool[np.arange(start, stop) % len(pool)]


def write_files(key, data_dir, mpi3d_real_size):
    """Writes the real-shaped file(s) `key` under `data_dir`, in the layout the loaders read."""
    from dlib_torch.data.ground_truth import dsprites_base
    from dlib_torch.data.ground_truth import dsprites_procedural
    from dlib_torch.data.ground_truth import synthetic_files
    from dlib_torch.data.ground_truth import util

    def path(*parts):
        os.makedirs(os.path.join(data_dir, *parts[:-1]), exist_ok=True)
        return os.path.join(data_dir, *parts)

    if key == "dsprites":
        sizes = dsprites_base.FULL_FACTOR_SIZES
        procedural = dsprites_procedural.ProceduralDSprites()

        def sprites(start, stop):  # the real file's images, rendered
            return procedural.images_from_all_factors(util.rows_to_factors(np.arange(start, stop), sizes)) \
                .astype(np.uint8)
        synthetic_files.write_dsprites_npz(path("dsprites", "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"),
                                           sizes, sprites)
    elif key == "scream":
        synthetic_files.write_jpg(path("scream", "scream.jpg"), _smooth_pool(1, (1000, 800, 3), 0)[0])
    elif key == "smallnorb":
        grid = [5, 10, 9, 18, 6]
        features = util.rows_to_factors(np.random.RandomState(0).permutation(int(np.prod(grid))), grid)
        two_cameras = _smooth_pool(256, (96, 96), 1)[:, None].repeat(2, axis=1)
        synthetic_files.write_smallnorb(os.path.join(data_dir, "small_norb"), features, _pool_rows(two_cameras),
                                        gz=False)
    elif key == "cars3d":
        import scipy.io
        pool = _smooth_pool(32, (128, 128, 3), 2)
        for car in range(183):
            views = pool[(car + np.arange(96)) % len(pool)].reshape(24, 4, 128, 128, 3)
            scipy.io.savemat(path("cars", "car_{:03d}_mesh.mat".format(car + 1)),
                             {"im": np.ascontiguousarray(np.transpose(views, (2, 3, 4, 0, 1)))})
    elif key in ("mpi3d_toy", "mpi3d_realistic"):  # the reference's challenge subsets, stored: read in place
        synthetic_files.write_mpi3d_npz(path(key, key + ".npz"), COMPETITION_MPI3D_SIZE,
                                        _pool_rows(_smooth_pool(509, (64, 64, 3), 3)), compress=False)
    elif key == "mpi3d_real":  # compressed: streamed into a cache
        synthetic_files.write_mpi3d_npz(path(key, key + ".npz"), mpi3d_real_size,
                                        _pool_rows(_smooth_pool(509, (64, 64, 3), 4)), compress=True,
                                        compresslevel=1)
    elif key == "shapes3d":
        synthetic_files.write_shapes3d_h5(path("3dshapes", "3dshapes.h5"), [10, 10, 10, 8, 4, 15],
                                          _pool_rows(_smooth_pool(509, (64, 64, 3), 5)))
    else:
        raise ValueError(key)


def bytes_needed(key, mpi3d_real_size):
    """Upper bound of the disk space a file key takes (source + cache)."""
    image = 64 * 64 * 3
    return {"dsprites": 0.5e9, "scream": 0.01e9, "smallnorb": 1.2e9, "cars3d": 1.2e9,
            "mpi3d_toy": COMPETITION_MPI3D_SIZE * image, "mpi3d_realistic": COMPETITION_MPI3D_SIZE * image,
            "mpi3d_real": 2 * mpi3d_real_size * image, "shapes3d": 2 * 480000 * image}[key]


# ---------------------------------------------------------------- measurements, each in a fresh process

def peak_rss_mb():
    """Peak resident memory of this process (VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.


def child_convert(name, data_dir):
    """Builds the data set's cache; reports seconds and peak RSS."""
    from dlib_torch.data.download import download
    start = time.perf_counter()
    download._build_cache(name, data_dir)
    return {"convert_s": time.perf_counter() - start, "convert_rss_mb": peak_rss_mb()}


def child_sample(name, data_dir, batches, cold, mpi3d_real_size):
    """Builds the data set object, then samples `batches` random batches of 64; reports times and peak RSS."""
    os.environ["DISENTANGLEMENT_LIB_DATA"] = data_dir
    from dlib_torch.data.ground_truth import mpi3d
    from dlib_torch.data.ground_truth import named_data
    if cold:
        _evict_page_cache(data_dir)
    start = time.perf_counter()
    if name == "mpi3d_real" and mpi3d_real_size != 1036800:  # a smaller file than the published one
        data = mpi3d.MPI3D(name, factor_sizes=[mpi3d_real_size // MPI3D_COLOR_IMAGES] + MPI3D_GRID_TAIL)
    else:
        data = named_data.get_named_ground_truth_data(name)
    build_s = time.perf_counter() - start
    random_state = np.random.RandomState(0)
    for _ in range(5):
        data.sample_observations(64, random_state)
    start = time.perf_counter()
    for _ in range(batches):
        observations = data.sample_observations(64, random_state)
    batch_ms = 1000 * (time.perf_counter() - start) / batches
    assert observations.dtype == np.float32 and 0 <= observations.min() and observations.max() <= 1
    return {"build_s": build_s, "batch_ms": batch_ms, "sample_rss_mb": peak_rss_mb(),
            "channels": int(data.observation_shape[-1])}


def _evict_page_cache(data_dir):
    """Drops this data root's files from the page cache (only ours), so that reads come from the disk."""
    for root, _, files in os.walk(data_dir):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def run_child(*child_args):
    command = [sys.executable, os.path.abspath(__file__)] + list(child_args)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("{} failed:\n{}".format(" ".join(command), result.stderr[-3000:]))
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the benchmark

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(PROCEDURAL + FILE_BACKED))
    parser.add_argument("--batches", type=int, default=10000, help="batches of 64 sampled per data set")
    parser.add_argument("--mpi3d_real_size", type=int, default=1036800,
                        help="images in the generated mpi3d_real file: 172,800 per object colour; 1,036,800 = 12.7 GB "
                             "(the published file); less if the disk is short")
    parser.add_argument("--workdir", default=None, help="where to write the files (default: a temporary directory)")
    parser.add_argument("--cold", action="store_true", help="drop the files from the page cache before sampling")
    parser.add_argument("--child", choices=["convert", "sample"], help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--data_dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from dlib_torch.utils import allocator
    allocator.keep_freed_memory()  # in every process, as every dtl_* command does at start

    if args.child == "convert":
        print(json.dumps(child_convert(args.name, args.data_dir)))
        return
    if args.child == "sample":
        print(json.dumps(child_sample(args.name, args.data_dir, args.batches, args.cold, args.mpi3d_real_size)))
        return

    if args.mpi3d_real_size % MPI3D_COLOR_IMAGES or not 0 < args.mpi3d_real_size <= 1036800:
        parser.error("--mpi3d_real_size must be 172,800 times 1 to 6 (object colours)")
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(PROCEDURAL) - set(FILE_BACKED))
    if unknown:
        parser.error("unknown data sets {}; valid: {}".format(unknown, ", ".join(PROCEDURAL + FILE_BACKED)))
    import torch
    step_ms = {c: training_step_ms(c) for c in (1, 3)}
    print("reference conv VAE training step at batch 64 ({} torch threads, fastest of 20): {:.1f} ms (1 channel), "
          "{:.1f} ms (3 channels)".format(torch.get_num_threads(), step_ms[1], step_ms[3]), flush=True)

    workdir = tempfile.mkdtemp(prefix="bench_data_", dir=args.workdir)
    data_dir = os.path.join(workdir, "data")
    written = set()
    rows = []
    try:
        for position, name in enumerate(names):
            row = {"name": name}
            keys = FILES_OF.get(name, [])
            new_keys = [k for k in keys if k not in written]
            needed = sum(bytes_needed(k, args.mpi3d_real_size) for k in new_keys)
            free = shutil.disk_usage(workdir).free
            if needed and free - needed < FREE_SPACE_MARGIN:
                print("{}: skipped, needs {:.1f} GB and {:.1f} GB are free".format(name, needed / 1e9, free / 1e9))
                continue
            start = time.perf_counter()
            for key in new_keys:
                write_files(key, data_dir, args.mpi3d_real_size)
                written.add(key)
            if new_keys:
                row["write_s"] = time.perf_counter() - start
            if name in FILE_BACKED:
                row.update(run_child("--child=convert", "--name=" + name, "--data_dir=" + data_dir))
            sample_args = ["--child=sample", "--name=" + name, "--data_dir=" + data_dir,
                           "--batches={}".format(args.batches), "--mpi3d_real_size={}".format(args.mpi3d_real_size)]
            sample_args += ["--cold"] if args.cold else []
            row.update(run_child(*sample_args))
            row["disk_gb"] = _disk_usage(data_dir) / 1e9
            row["step_ratio"] = row["batch_ms"] / step_ms[row["channels"]]
            rows.append(row)
            print(_format(row), flush=True)
            still_needed = {k for n in names[position + 1:] for k in FILES_OF.get(n, [])}
            for key in sorted(written - still_needed):
                _remove(key, data_dir)
                written.discard(key)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("{:28} {:>8} {:>10} {:>11} {:>8} {:>9} {:>11} {:>10}".format(
        "data set", "disk GB", "convert s", "conv RSS MB", "build s", "ms/batch", "peak RSS MB", "% of step"))
    for row in rows:
        print("{:28} {:8.2f} {:>10} {:>11} {:8.3f} {:9.3f} {:11.0f} {:9.2f}%".format(
            row["name"], row["disk_gb"], "{:.1f}".format(row["convert_s"]) if "convert_s" in row else "-",
            "{:.0f}".format(row["convert_rss_mb"]) if "convert_rss_mb" in row else "-", row["build_s"],
            row["batch_ms"], row["sample_rss_mb"], 100 * row["step_ratio"]))
    print("batches of 64 per data set: {}; page cache: {}".format(args.batches, "evicted before sampling (cold)"
                                                                   if args.cold else "as left by the conversion"))


def _format(row):
    return "{name}: " .format(**row) + ", ".join("{}={:.4g}".format(k, v) for k, v in row.items() if k != "name")


def _disk_usage(directory):
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total


def _remove(key, data_dir):
    directory = {"dsprites": "dsprites", "scream": "scream", "smallnorb": "small_norb", "cars3d": "cars",
                 "shapes3d": "3dshapes"}.get(key, key)
    shutil.rmtree(os.path.join(data_dir, directory), ignore_errors=True)


if __name__ == "__main__":
    main()
