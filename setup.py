"""dlib_torch: disentanglement_lib's pipeline in PyTorch, with held-out generalisation experiments."""
import os

import setuptools

# One console entry point per pipeline stage; each bin/<name> script launches the same function.
STAGES = {
    "dtl_visualize_dataset": "dlib_torch.cli.visualize_dataset:run",
    "dtl_train": "dlib_torch.cli.train:run",
    "dtl_visualize": "dlib_torch.cli.visualize:run",
    "dtl_postprocess": "dlib_torch.cli.postprocess:run",
    "dtl_evaluate": "dlib_torch.cli.evaluate:run",
    "dtl_reason": "dlib_torch.cli.reason:run",
    "dtl_download": "dlib_torch.cli.download:run",
    "dtl_reproduce": "dlib_torch.cli.reproduce:run",
    "dtl_aggregate": "dlib_torch.cli.aggregate:run",
    "dtl_submit": "dlib_torch.cli.submit:run",
    "dtl_import": "dlib_torch.cli.import_model:run",
    "dtl_udr": "dlib_torch.cli.udr:run",
    "dtl_report": "dlib_torch.cli.report:run",
    "dtl_train_weakly_supervised": "dlib_torch.cli.train_weakly_supervised:run",
    "dtl_reproduce_weakly_supervised": "dlib_torch.cli.reproduce_weakly_supervised:run",
    "dtl_train_semi_supervised": "dlib_torch.cli.train_semi_supervised:run",
    "dtl_reproduce_semi_supervised": "dlib_torch.cli.reproduce_semi_supervised:run",
}

# The documentation site (mkdocs.yml, docs/): `pip install '.[docs]' && mkdocs serve`.
DOCS_REQUIRES = ["mkdocs>=1.6,<2", "pymdown-extensions>=10,<14"]


def package_files(package_dir):
    """Every non-Python file under `package_dir` (gin files, pictures, ...), relative to it, for package_data."""
    found = []
    for directory, subdirs, files in os.walk(package_dir):
        subdirs[:] = [d for d in subdirs if d != "__pycache__" and not d.endswith(".egg-info")]
        found.extend(os.path.relpath(os.path.join(directory, name), package_dir)
                     for name in files if not name.endswith((".py", ".pyc")))
    return sorted(found)


setuptools.setup(
    name="dlib_torch",
    version="0.1.0",
    description="Disentangled representation learning and evaluation (disentanglement_lib in PyTorch).",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache 2.0",
    python_requires=">=3.9",
    # The shipped studies live in configs/studies/ and install as the package dlib_torch.studies, so a
    # regular (non-editable) install finds them too.
    packages=setuptools.find_packages(include=["dlib_torch", "dlib_torch.*"]) + ["dlib_torch.studies"],
    package_dir={"dlib_torch.studies": "configs/studies"},
    package_data={
        "dlib_torch": package_files("dlib_torch"),  # e.g. examples/model.gin
        "dlib_torch.studies": ["*.md", "**/*.gin", "**/*.py", "**/*.md"],
    },
    include_package_data=False,
    install_requires=[
        "torch>=2.0,<3",
        "gin-config>=0.5",
        "absl-py>=1.0",
        "numpy>=1.23",
        "scipy>=1.9",
        "scikit-learn>=1.1",
        "pandas>=1.5",
        "simplejson>=3.17",
        "pillow>=9.0",
        "imageio>=2.20",
        "tqdm>=4.60",
        "h5py>=3.0",
        "matplotlib>=3.5",  # interventional-effect plots of dtl_visualize, dtl_report's figures
        "numba>=0.59",  # the fast evaluation mode's compiled boosted trees (metrics/compiled_boosted_trees.py)
    ],
    extras_require={
        # tensorboard: the optional event files; the docs extra: tests/test_docs.py builds the site
        "test": ["pytest>=7", "pytest-xdist>=3", "tensorboard>=2.14"] + DOCS_REQUIRES,
        "tensorboard": ["tensorboard>=2.14"],
        "docs": DOCS_REQUIRES,
    },
    entry_points={"console_scripts": [f"{name}={target}" for name, target in STAGES.items()]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: Apache Software License",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
