"""Fixtures of the metric tests: disentanglement_lib's own metric code, and synthetic representations.

The reference (disentanglement_lib 1.5 from PyPI) is installed with `--no-deps` once per test session and
imported without TensorFlow, with a stand-in for gin (dlib_torch/utils/reference_lib.py).
"""
import itertools
import sys
import types

import gin
import numpy as np
import pytest
import threadpoolctl
from sklearn import ensemble
from sklearn import linear_model
from sklearn import multiclass
from sklearn import svm

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.utils import reference_lib



@pytest.fixture(autouse=True)
def _serial_fits(monkeypatch):
    """Fits run in-process unless a test asks for workers (the suite itself runs under xdist)."""
    monkeypatch.setenv("DTL_NUM_JOBS", "1")


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    """The reference's fits get one BLAS thread too (as ours do): far faster for small problems."""
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(autouse=True)
def _clean_gin():
    gin.clear_config()
    yield
    gin.clear_config()


@pytest.fixture(scope="session")
def reference_modules(tmp_path_factory):
    """The reference's metric modules and dummy_data, by name, plus `gin` (their GinStandIn)."""
    # One installation shared by the session's xdist workers.
    target = reference_lib.install(str(tmp_path_factory.getbasetemp().parent / "disentanglement_lib_1_5"))
    modules = reference_lib.load(target, other_modules=["data.ground_truth.dummy_data"])
    assert "tensorflow" not in sys.modules
    return modules


@pytest.fixture
def reference(reference_modules):
    """The reference's metric modules, with their gin bindings cleared after the test."""
    yield reference_modules
    reference_modules.gin.bindings.clear()


# ---------------------------------------------------------------------------------------------------------
# scikit-learn 0.20's defaults, for running the reference as it ran in the study (see utils.sklearn_defaults).
# scikit-learn 0.20 has no wheels for this Python, so these re-create its estimators with today's classes; the
# "installed" parity tests compare with the unmodified reference.

class _LegacyLogisticRegression:
    """sklearn 0.20's LogisticRegression(): liblinear, one-vs-rest, one seed draw from a RandomState at fit."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, x, y):
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(np.iinfo("i").max)
        self.model = multiclass.OneVsRestClassifier(linear_model.LogisticRegression(solver="liblinear",
                                                                                    random_state=seed))
        self.model.fit(x, y)
        return self

    def predict(self, x):
        return self.model.predict(x)

    def predict_proba(self, x):
        return self.model.predict_proba(x)

    def score(self, x, y):
        return np.mean(self.predict(x) == y)


def _legacy_logistic_regression_cv(**params):
    """sklearn 0.20's LogisticRegressionCV: lbfgs, one-vs-rest, accuracy."""
    return multiclass.OneVsRestClassifier(linear_model.LogisticRegressionCV(scoring="accuracy", l1_ratios=(0.0,),
                                                                            use_legacy_attributes=False, **params))


def _legacy_linear_svc(**params):
    """sklearn 0.20's LinearSVC: the dual solver."""
    return svm.LinearSVC(dual=True, **params)


@pytest.fixture
def legacy_reference(reference, monkeypatch):
    """The reference with scikit-learn 0.20's estimator defaults (what the published study ran)."""
    legacy_linear_model = types.SimpleNamespace(LogisticRegression=_LegacyLogisticRegression,
                                                LogisticRegressionCV=_legacy_logistic_regression_cv)
    for module in (reference.beta_vae, reference.modularity_explicitness):
        monkeypatch.setattr(module, "linear_model", legacy_linear_model)
    monkeypatch.setattr(reference.utils, "linear_model", legacy_linear_model)
    monkeypatch.setattr(reference.sap_score, "svm", types.SimpleNamespace(LinearSVC=_legacy_linear_svc))
    return reference


# ---------------------------------------------------------------------------------------------------------
# Synthetic data and representations for parity tests.


class ToyData(ground_truth_data.GroundTruthData):
    """Factors with 3, 4 and 5 values; an observation is the factors followed by 3 standard normal values.

    The noise is drawn from the metric's random state, so parity also checks how the stream is consumed.
    """

    NUM_NOISE = 3

    @property
    def num_factors(self):
        return 3

    @property
    def factors_num_values(self):
        return [3, 4, 5]

    @property
    def observation_shape(self):
        return [self.num_factors + self.NUM_NOISE]

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(n, size=num) for n in self.factors_num_values], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        noise = random_state.normal(size=(len(factors), self.NUM_NOISE))
        return np.hstack([factors.astype(np.float64), noise])


_ROTATION = np.linalg.qr(np.random.RandomState(7).normal(size=(3, 3)))[0]


def _identity(observations):
    return observations[:, :3]


def _rotated(observations):
    return ((observations[:, :3] - [1., 1.5, 2.]) / [0.8, 1.1, 1.4]) @ _ROTATION


def _merged(observations):
    """Factors 0 and 1 share one code, factor 2 has its own, and one code is noise."""
    return np.stack([4. * observations[:, 0] + observations[:, 1], observations[:, 2], observations[:, 3]], axis=1)


def _noise(observations):
    return observations[:, 3:]


REPRESENTATIONS = {"identity": _identity, "rotated": _rotated, "merged": _merged, "noise": _noise}


@pytest.fixture
def toy_data():
    return ToyData()


@pytest.fixture
def representations():
    """Every synthetic representation of ToyData, by name."""
    return dict(REPRESENTATIONS)


@pytest.fixture(params=sorted(REPRESENTATIONS))
def representation(request):
    """(name, function) of each synthetic representation of ToyData."""
    return request.param, REPRESENTATIONS[request.param]


@pytest.fixture
def seed_reference_trees(reference, monkeypatch):
    """Gives the reference's gradient-boosted trees seeds (it leaves them to the global RNG), for exact parity.

    `seed(seeds)`: one seed for every tree ensemble, or a list handed out in the order they are created.
    Our side keeps its own trees (boosted_trees.py), which a seed makes scikit-learn's, ties included.
    """
    def seed(seeds):
        seeds = iter(seeds) if np.ndim(seeds) else itertools.repeat(seeds)

        def gradient_boosting_classifier():
            return ensemble.GradientBoostingClassifier(random_state=int(next(seeds)))
        seeded_ensemble = types.SimpleNamespace(GradientBoostingClassifier=gradient_boosting_classifier)
        for module in (reference.dci, reference.utils):
            monkeypatch.setattr(module, "ensemble", seeded_ensemble)
    return seed


@pytest.fixture(scope="session")
def reference_unified_scores(reference_modules, tmp_path_factory):
    """The reference's unified_scores module (TensorFlow and seaborn, for its pictures only, stood in for)."""
    target = reference_lib.install(str(tmp_path_factory.getbasetemp().parent / "disentanglement_lib_1_5"))
    module = reference_lib.load(target, metric_modules=("unified_scores",), picture_stand_ins=True).unified_scores
    assert "tensorflow" not in sys.modules and "seaborn" not in sys.modules
    module.dendrogram.tf.gfile.Open = open  # its dendrogram goes through tf.gfile: a local file will do
    return module
