"""Time dtl_import's conversion of one published-shaped model (the reference's conv architecture, 10 latents).

Builds, in a temporary folder, a ZIP laid out like a published disentanglement_lib model around the TF-made
fixture (tests/fixtures/tf_conv_model, via tests/importer/conftest.py), then imports it --num_models times
in this process into fresh output directories: reading and checking the ZIP (CRCs), the TensorBundle (CRC32C),
converting the variables, the TorchScript export and the records. Interpreter and torch start-up are not in it.

    python benchmarks/bench_import.py [--num_models=5]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "importer"))

import conftest as published  # noqa: E402  (the published-ZIP builder of the tests)
from dlib_torch.importer import import_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_models", type=int, default=5)
    args = parser.parse_args()
    directory = tempfile.mkdtemp()
    try:
        source = published.write_zip(os.path.join(directory, "0.zip"), published.published_files(0))
        import_model.import_model(source, os.path.join(directory, "warm-up"))  # first-call imports, gin, TorchScript
        times = []
        for i in range(args.num_models):
            start = time.perf_counter()
            import_model.import_model(source, os.path.join(directory, str(i)))
            times.append(time.perf_counter() - start)
        print("ZIP {:.1f} MB; import per model: median {:.2f} s, min {:.2f} s, max {:.2f} s over {} models".format(
            os.path.getsize(source) / 1e6, sorted(times)[len(times) // 2], min(times), max(times), len(times)))
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
