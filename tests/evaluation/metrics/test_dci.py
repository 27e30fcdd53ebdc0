"""DCI: the reference's pure-matrix and end-to-end expectations, parity, the paper variant, parallel fits."""
import numpy as np
import pytest

from dlib_torch.data.ground_truth import dummy_data
from dlib_torch.evaluation.metrics import dci
from dlib_torch.evaluation.metrics import utils

DIAGONAL = np.diag(5. * np.ones(5))


@pytest.mark.parametrize("importance_matrix, expected_disentanglement, expected_completeness", [
    (DIAGONAL, 1., 1.),
    (np.array([[1., 0.], [0., 1.], [0., 0.]]), 1., 1.),  # empty codes
    (np.zeros([10, 10]), 0., 0.),
    (np.vstack([DIAGONAL, DIAGONAL]), 1., 1. - np.log(2) / np.log(10)),  # redundant codes
    (DIAGONAL[:2, :], 1., 1.),  # missed factors
    (np.hstack([DIAGONAL, DIAGONAL]), 1. - np.log(2) / np.log(10), 1.),  # one code, two factors
])
def test_pure_matrix_expectations(importance_matrix, expected_disentanglement, expected_completeness):
    np.testing.assert_allclose(dci.disentanglement(importance_matrix), expected_disentanglement, atol=1e-7)
    np.testing.assert_allclose(dci.completeness(importance_matrix), expected_completeness, atol=1e-7)


def _permuting_representation():
    random_state = np.random.RandomState(0)

    def representation_function(x):
        code = np.array(x, dtype=np.float64)
        for i in range(code.shape[0]):
            code[i, :] = random_state.permutation(code[i, :])
        return code
    return representation_function


# The reference uses 1000 train and test points; 200 keep the GBTs fast with the same outcome.
@pytest.mark.parametrize("make_representation, disentanglement_range, completeness_range", [
    (lambda: lambda x: np.array(x, dtype=np.float64), (0.9, 1.), (0.9, 1.)),
    (_permuting_representation, (0., 0.2), (0., 0.2)),
    (lambda: lambda x: np.hstack([x, x]).astype(np.float64), (0.9, 1.),
     (1. - np.log(2) / np.log(10) - .1, 1. - np.log(2) / np.log(10) + .1)),  # duplicated latent space
])
def test_reference_expectations(make_representation, disentanglement_range, completeness_range):
    scores = dci.compute_dci(dummy_data.IdentityObservationsData(), make_representation(),
                             np.random.RandomState(0), None, 200, 200)
    assert disentanglement_range[0] <= scores["disentanglement"] <= disentanglement_range[1]
    assert completeness_range[0] <= scores["completeness"] <= completeness_range[1]


def _our_tree_seed(toy_data, representation_function, seed, *sizes):
    """The seed our DCI gives its trees: derived from the random state after the sampling."""
    random_state = np.random.RandomState(seed)
    for size in sizes:
        utils.generate_batch_factor_code(toy_data, representation_function, size, random_state, 16)
    return utils.derived_seeds(random_state, 1)[0]


def test_parity_with_reference(reference, seed_reference_trees, toy_data, representation):
    _, representation_function = representation
    ours = dci.compute_dci(toy_data, representation_function, np.random.RandomState(2), num_train=300, num_test=200)
    theirs = reference.dci.compute_dci(toy_data, representation_function, np.random.RandomState(2),
                                       num_train=300, num_test=200)
    # The reference leaves the trees' tie-breaking to the global RNG: the same within sampling noise.
    assert ours == pytest.approx(theirs, abs=0.05)
    # With the same tree seed, the same samples give the same numbers.
    seed_reference_trees(_our_tree_seed(toy_data, representation_function, 2, 300, 200))
    theirs = reference.dci.compute_dci(toy_data, representation_function, np.random.RandomState(2),
                                       num_train=300, num_test=200)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_validation_parity(reference, seed_reference_trees, toy_data):
    labels, observations = toy_data.sample(400, np.random.RandomState(0))
    ours = dci.compute_dci_on_fixed_data(observations, labels.T, _rotated_noisy, train_percentage=0.75)
    seed_reference_trees(utils.derived_seeds(np.random.RandomState(0), 1)[0])
    theirs = reference.dci.compute_dci_on_fixed_data(observations, labels.T, _rotated_noisy,
                                                     train_percentage=0.75)
    assert ours == pytest.approx(theirs, abs=1e-12)


def _rotated_noisy(observations):
    return observations[:, :3] @ np.array([[1., .5, 0.], [0., 1., .5], [.5, 0., 1.]]) + 0.3 * observations[:, 3:]


def test_parallel_fits_are_identical_to_serial(toy_data, monkeypatch):
    serial = dci.compute_dci(toy_data, _rotated_noisy, np.random.RandomState(0), num_train=200, num_test=100)
    monkeypatch.setenv("DTL_NUM_JOBS", "2")
    assert dci.compute_dci(toy_data, _rotated_noisy, np.random.RandomState(0), num_train=200, num_test=100) == serial


def test_paper_variant():
    """Montero et al.'s Lasso D: 1 for an identity code (the GT decoder's D), low when codes mix factors."""
    random_state = np.random.RandomState(0)
    factors = random_state.randint(4, size=(300, 3))
    codes = 0.5 * factors + random_state.normal(scale=0.01, size=factors.shape)
    scores = dci.dci_from_codes(codes[:200], factors[:200], codes[200:], factors[200:], paper_variant=True)
    assert scores["lasso_disentanglement"] == pytest.approx(1., abs=1e-3)
    assert scores["lasso_completeness"] == pytest.approx(1., abs=1e-3)
    mixed = codes @ np.linalg.qr(random_state.normal(size=(3, 3)))[0]
    scores = dci.dci_from_codes(mixed[:200], factors[:200], mixed[200:], factors[200:], paper_variant=True)
    assert scores["lasso_disentanglement"] < 0.6
    assert set(scores) == {"informativeness_train", "informativeness_test", "disentanglement", "completeness",
                           "lasso_disentanglement", "lasso_completeness"}


def test_lasso_importance_is_scale_free_in_the_factors():
    """Standardising the factors makes raw factor values and factor indices give the same importances."""
    random_state = np.random.RandomState(0)
    factors = random_state.randint(6, size=(500, 2))
    codes = np.stack([factors[:, 0] + factors[:, 1], factors[:, 1]], axis=1) + random_state.normal(size=(500, 2))
    values = factors * [0.1, 2.0] + [0.5, -1.]
    np.testing.assert_allclose(dci.lasso_importance_matrix(codes, factors),
                               dci.lasso_importance_matrix(codes, values), atol=1e-6)
    assert dci.lasso_importance_matrix(codes, np.zeros((500, 1)))[:, 0].tolist() == [0., 0.]
