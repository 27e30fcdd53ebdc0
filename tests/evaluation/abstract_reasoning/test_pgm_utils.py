"""Structure of generated PGMs (pgm_utils.py, pgm_data.py): rules, the one right answer, the wrong answers."""
import gin
import numpy as np
import pytest

from dlib_torch.data.ground_truth import ground_truth_data
from dlib_torch.evaluation.abstract_reasoning import pgm_data
from dlib_torch.evaluation.abstract_reasoning import pgm_utils
from dlib_torch.utils import reference_lib

ABSTRACT_DSPRITES_SIZES = [5, 6, 3, 3, 4, 4]


def _answers(pgm):
    return [pgm.matrix[-1, -1]] + list(pgm.other_solutions)


def _completed(pgm, answer):
    matrix = np.copy(pgm.matrix)
    matrix[-1, -1] = answer
    return matrix


def _broken_active_factors(pgm, answer):
    """Active factors whose row rule the answer breaks."""
    return [i for i in pgm.design.active_relations if answer[i] != pgm.matrix[-1, 0, i]]


@pytest.mark.parametrize("strategy", ["easy", "hard"])
@pytest.mark.parametrize("num_relations", [1, 2, 3])
def test_rows_obey_the_relations_and_one_answer_completes_the_matrix(strategy, num_relations):
    random_state = np.random.RandomState(num_relations)
    for _ in range(40):
        pgm = pgm_utils.PGM(random_state, num_relations, ABSTRACT_DSPRITES_SIZES, strategy)
        assert pgm.matrix.shape == (3, 3, 6) and pgm.other_solutions.shape == (5, 6)
        active = pgm.design.active_relations
        assert len(set(active)) == num_relations
        for i in range(6):
            values = pgm.matrix[:, :, i]
            assert values.min() >= 0 and values.max() < ABSTRACT_DSPRITES_SIZES[i]
            if i in active:
                assert all(len(set(row)) == 1 for row in values)  # constant along every row
            else:  # carries no rule: the first two rows are neither all constant nor all distinct
                first_rows = values[:2]
                assert not all(len(set(row)) == 1 for row in first_rows)
                assert not all(len(set(row)) == 3 for row in first_rows)
        completing = [pgm.design.is_consistent(_completed(pgm, answer)) for answer in _answers(pgm)]
        assert completing == [True, False, False, False, False, False]
        for answer in pgm.other_solutions:
            assert _broken_active_factors(pgm, answer)


def test_hard_wrong_answers_modify_the_right_one_and_easy_ones_do_not():
    """Hard: the correct answer with (mostly) one active factor changed; easy: every active factor drawn anew."""
    def fraction_with_one_broken_factor(strategy):
        random_state = np.random.RandomState(0)
        counts = []
        for _ in range(60):
            pgm = pgm_utils.PGM(random_state, 3, ABSTRACT_DSPRITES_SIZES, strategy)
            counts += [len(_broken_active_factors(pgm, answer)) for answer in pgm.other_solutions]
        return np.mean(np.array(counts) == 1)

    assert fraction_with_one_broken_factor("hard") > 0.8
    assert fraction_with_one_broken_factor("easy") < 0.5


def test_unique_alternatives_refuses_duplicates():
    random_state = np.random.RandomState(0)
    for _ in range(30):
        pgm = pgm_utils.PGM(random_state, 3, ABSTRACT_DSPRITES_SIZES, "hard", unique_alternatives=True)
        assert len({tuple(a) for a in pgm.other_solutions}) == 5


def test_same_seed_same_pgms_and_relation_errors():
    first = pgm_utils.PGM(np.random.RandomState(7), 2, ABSTRACT_DSPRITES_SIZES)
    second = pgm_utils.PGM(np.random.RandomState(7), 2, ABSTRACT_DSPRITES_SIZES)
    assert np.array_equal(first.matrix, second.matrix)
    assert np.array_equal(first.other_solutions, second.other_solutions)
    with pytest.raises(ValueError, match="less atoms than columns"):
        pgm_utils.ConstantRelation(2)
    with pytest.raises(ValueError, match="easy and hard"):
        pgm_utils.PGM(np.random.RandomState(0), 1, ABSTRACT_DSPRITES_SIZES, "medium")


def test_one_candidate_leaves_no_wrong_answers_as_the_reference(tmp_path_factory):
    # The reference returns np.array([]); ours keeps its [num_solutions - 1, factors] shape: [0, 6].
    target = reference_lib.install(str(tmp_path_factory.getbasetemp().parent / "disentanglement_lib_1_5"))
    reference = reference_lib.load(target, metric_modules=(),
                                   other_modules=["evaluation.abstract_reasoning.pgm_utils"]).pgm_utils
    for seed in range(5):
        ours_state, their_state = np.random.RandomState(seed), np.random.RandomState(seed)
        ours = pgm_utils.PGM(ours_state, 2, ABSTRACT_DSPRITES_SIZES, num_solutions=1)
        theirs = reference.PGM(their_state, 2, ABSTRACT_DSPRITES_SIZES, num_solutions=1)
        np.testing.assert_array_equal(ours.matrix, theirs.matrix)
        assert ours.other_solutions.shape == (0, 6) and theirs.other_solutions.size == 0
        assert ours_state.randint(1 << 30) == their_state.randint(1 << 30)
    with pytest.raises(ValueError, match="num_solutions is 0; a PGM needs at least 1"):
        pgm_utils.PGM(np.random.RandomState(0), 1, ABSTRACT_DSPRITES_SIZES, num_solutions=0)


@pytest.fixture
def abstract_dsprites_pgms():
    def make(pgm_type, *bindings):
        gin.clear_config()
        gin.bind_parameter("dataset.name", "abstract_dsprites_procedural")
        gin.bind_parameter("pgm.pgm_type", pgm_type)
        for binding in bindings:
            gin.parse_config(binding)
        return pgm_data.get_pgm_dataset()
    yield make
    gin.clear_config()


def test_quantised_factor_sizes_match_the_reference(abstract_dsprites_pgms):
    dataset = abstract_dsprites_pgms("easy1")
    assert dataset.ground_truth_data.factors_num_values == [5, 6, 3, 3, 4, 4]
    assert pgm_data.ABSTRACT_DSPRITES_QUANTISATION == [5, 6, 3, 3, 4, 4]
    assert pgm_data.SHAPES3D_QUANTISATION == [10, 10, 10, 4, 4, 4]

    class PublishedShapes3DSizes(ground_truth_data.GroundTruthData):
        factors_num_values = [10, 10, 10, 8, 4, 15]
        num_factors = 6
        observation_shape = [64, 64, 3]

        def sample_factors(self, num, random_state):
            raise NotImplementedError

        def sample_observations_from_factors(self, factors, random_state):
            return factors

    quantizer = pgm_data.Quantizer(PublishedShapes3DSizes(), pgm_data.SHAPES3D_QUANTISATION)
    assert quantizer.factors_num_values == [10, 10, 10, 4, 4, 4]
    # Quantised value v of a factor with n true values and m kept ones is the true value floor(v * n / m).
    translated = quantizer.sample_observations_from_factors(np.array([[9, 9, 9, 3, 3, 3], [0, 0, 0, 1, 2, 2]]), None)
    assert translated.tolist() == [[9, 9, 9, 6, 3, 11], [0, 0, 0, 2, 2, 7]]


@pytest.mark.parametrize("pgm_type", pgm_data.PGM_TYPES)
def test_batches_hold_matrices_whose_answer_is_at_the_label(abstract_dsprites_pgms, pgm_type):
    dataset = abstract_dsprites_pgms(pgm_type)
    expected_relations = {"1": {1}, "2": {2}, "3": {3}, "d": {1, 2, 3}}[pgm_type[-1]]
    batch = dataset.sample_batch(40, [3, 0], with_images=False)
    assert batch["context_factors"].shape == (40, 8, 6) and batch["answers_factors"].shape == (40, 6, 6)
    seen_relations = set()
    for context, answers, label in zip(batch["context_factors"], batch["answers_factors"], batch["labels"]):
        constant = [i for i in range(6) if all(len(set(context[3 * r:3 * r + 3, i])) == 1 for r in range(2))]
        completing = []
        for answer in answers:
            last_row = np.concatenate([context[6:], answer[None]])
            completing.append(all(len(set(last_row[:, i])) == 1 for i in constant))
        assert completing.index(True) == label and sum(completing) == 1
        seen_relations.add(len(constant))
    # Constant first rows of a non-active factor are excluded, so the count of constant factors is the type's.
    assert seen_relations <= expected_relations and (len(expected_relations) == 1 or len(seen_relations) > 1)


def test_hard_types_draw_easy_answers_as_the_reference_unless_asked(abstract_dsprites_pgms):
    assert abstract_dsprites_pgms("hard2").sampling_strategy == "easy"
    assert abstract_dsprites_pgms("hard2", "pgm.hard_alternatives_as_documented = True").sampling_strategy == "hard"
    assert abstract_dsprites_pgms("easy2", "pgm.hard_alternatives_as_documented = True").sampling_strategy == "easy"


def test_batches_are_rendered_and_deterministic(abstract_dsprites_pgms):
    dataset = abstract_dsprites_pgms("easy_mixed")
    batch = dataset.sample_batch(3, [5, 1])
    again = dataset.sample_batch(3, [5, 1])
    other = dataset.sample_batch(3, [5, 2])
    assert batch["context"].shape == (3, 8, 64, 64, 3) and batch["answers"].shape == (3, 6, 64, 64, 3)
    assert batch["context"].dtype == np.float32 and 0 <= batch["context"].min() and batch["context"].max() <= 1
    for key in batch:
        assert np.array_equal(batch[key], again[key])
    assert not np.array_equal(batch["context_factors"], other["context_factors"])
    # The background colour of a panel is its (quantised) background factor's grey.
    grey = pgm_data.dsprites_variants.BACKGROUND_COLORS[batch["context_factors"][0, 0, 0]]
    assert np.allclose(batch["context"][0, 0, 0, 0], grey)


def test_data_set_without_quantisation_is_refused():
    gin.clear_config()
    try:
        gin.bind_parameter("dataset.name", "dsprites_procedural")
        gin.bind_parameter("pgm.pgm_type", "easy1")
        with pytest.raises(pgm_data.UserError, match="no PGM factor quantisation"):
            pgm_data.get_pgm_dataset()
        gin.bind_parameter("pgm.pgm_type", "easy4")
        with pytest.raises(pgm_data.UserError, match="pgm.pgm_type = 'easy4'"):
            pgm_data.get_pgm_dataset()
    finally:
        gin.clear_config()
