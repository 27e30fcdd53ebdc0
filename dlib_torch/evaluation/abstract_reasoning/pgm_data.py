"""Data sets of procedurally generated matrices (PGMs) rendered through a ground-truth data set.

`pgm.pgm_type` names the task as in the reference: `easy` or `hard` wrong answers (see pgm_utils.py), and the
number of factors constant along each row: 1, 2, 3, or `mixed` (1, 2 or 3 with probability 1/3 each).
Factors are quantised as in the paper: abstract dSprites to [5, 6, 3, 3, 4, 4] values, Shapes3D to
[10, 10, 10, 4, 4, 4]. A batch is drawn from its own seed (`sample_batch`), so batches can be made in any
order or in worker processes and a resumed run meets the same PGMs.
"""
import gin
import numpy as np

from dlib_torch.data.ground_truth import dsprites_variants
from dlib_torch.data.ground_truth import ground_truth_data as gtd
from dlib_torch.data.ground_truth import named_data
from dlib_torch.data.ground_truth import shapes3d
from dlib_torch.evaluation.abstract_reasoning import pgm_utils
from dlib_torch.utils import validation
from dlib_torch.utils.errors import UserError

PGM_TYPES = ("easy1", "easy2", "easy3", "easy_mixed", "hard1", "hard2", "hard3", "hard_mixed")
ABSTRACT_DSPRITES_QUANTISATION = [5, 6, 3, 3, 4, 4]
SHAPES3D_QUANTISATION = [10, 10, 10, 4, 4, 4]
NUM_CONTEXT_PANELS = 8
NUM_ANSWERS = 6


@gin.configurable("pgm")
def get_pgm_dataset(pgm_type=gin.REQUIRED, hard_alternatives_as_documented=False, unique_alternatives=False):
    """The PGM data set of `pgm_type` over `dataset.name` (abstract_dsprites[_procedural] or shapes3d).

    Args:
      pgm_type: one of PGM_TYPES.
      hard_alternatives_as_documented: the reference never passes the sampling strategy on to its PGMs, so its
        `hard*` types draw `easy` wrong answers. False (default) keeps that parity; True draws the hard wrong
        answers (modifications of the correct one) that the paper and the reference's docstrings describe.
      unique_alternatives: refuse duplicate wrong answers (the reference's check does nothing; see pgm_utils).
    """
    validation.check_choice("pgm.pgm_type", pgm_type, PGM_TYPES)
    validation.check_bool("pgm.hard_alternatives_as_documented", hard_alternatives_as_documented)
    validation.check_bool("pgm.unique_alternatives", unique_alternatives)
    ground_truth_data = quantised_data(named_data.get_named_ground_truth_data())
    sampling = "easy" if pgm_type.startswith("easy") else "hard"
    relations_dist = {"1": [1., 0., 0.], "2": [0., 1., 0.], "3": [0., 0., 1.],
                      "d": [1. / 3., 1. / 3., 1. / 3.]}[pgm_type[-1]]
    return PGMDataset(ground_truth_data, sampling if hard_alternatives_as_documented else "easy", relations_dist,
                      unique_alternatives)


def quantised_data(ground_truth_data):
    """The data set with the paper's factor quantisation; a data set without one is refused."""
    if isinstance(ground_truth_data, dsprites_variants.AbstractDSprites):
        return Quantizer(ground_truth_data, ABSTRACT_DSPRITES_QUANTISATION)
    if isinstance(ground_truth_data, shapes3d.Shapes3D):
        return Quantizer(ground_truth_data, SHAPES3D_QUANTISATION)
    raise UserError("data set {} has no PGM factor quantisation; abstract reasoning runs on abstract_dsprites, "
                    "abstract_dsprites_procedural or shapes3d (bind dataset.name, or reason on a model trained on "
                    "one of them)".format(type(ground_truth_data).__name__))


class PGMDataset:
    """PGMs whose panels are images of `ground_truth_data` (the reference's PGMDataset)."""

    def __init__(self, ground_truth_data, sampling_strategy, relations_dist, unique_alternatives=False):
        self.ground_truth_data = ground_truth_data
        self.sampling_strategy = sampling_strategy
        self.relations_dist = relations_dist
        self.unique_alternatives = unique_alternatives

    def sample_factors(self, random_state):
        """One PGM's factors: (solution [3, 3, F], alternatives [5, F], position of the answer among 6)."""
        num_relations = 1 + random_state.choice(len(self.relations_dist), p=self.relations_dist)
        pgm = pgm_utils.PGM(random_state, num_relations, self.ground_truth_data.factors_num_values,
                            self.sampling_strategy, unique_alternatives=self.unique_alternatives)
        position = random_state.choice(len(pgm.other_solutions) + 1)
        return pgm.matrix, pgm.other_solutions, position

    def sample_batch(self, batch_size, seed, with_images=True):
        """The batch of `seed` (an int or a sequence of ints): a dict of numpy arrays.

        `context_factors` [B, 8, F] and `answers_factors` [B, 6, F] (int64 values), `labels` [B] (the position of
        the correct answer) and, `with_images`, `context` [B, 8, H, W, C] and `answers` [B, 6, H, W, C] (float32).
        The images are drawn after all the factors of the batch (one rendering call).
        """
        random_state = np.random.RandomState(seed)
        context, answers, labels = [], [], []
        for _ in range(batch_size):
            solution, alternatives, position = self.sample_factors(random_state)
            context.append(solution.reshape(-1, solution.shape[-1])[:-1])
            answers.append(np.insert(alternatives, position, solution[-1, -1], axis=0))
            labels.append(position)
        batch = {"context_factors": np.array(context, dtype=np.int64),
                 "answers_factors": np.array(answers, dtype=np.int64),
                 "labels": np.array(labels, dtype=np.int64)}
        if with_images:
            panels = np.concatenate([batch["context_factors"], batch["answers_factors"]], axis=1)
            images = self.ground_truth_data.sample_observations_from_factors(
                panels.reshape(-1, panels.shape[-1]), random_state)
            images = np.asarray(images, dtype=np.float32).reshape(panels.shape[:2] + images.shape[1:])
            batch["context"] = images[:, :NUM_CONTEXT_PANELS]
            batch["answers"] = images[:, NUM_CONTEXT_PANELS:]
        return batch


def range_embed_factors(factors, num_factor_values):
    """Factor values mapped linearly onto [-0.5, 0.5] (the reference's `values` embedding)."""
    max_values = np.asarray(num_factor_values, dtype=np.float32) - 1.
    return np.asarray(factors, dtype=np.float32) / max_values - .5


def onehot_embed_factors(factors, num_factor_values):
    """Factor values as concatenated one-hot vectors (the reference's `onehot` embedding)."""
    factors = np.asarray(factors)
    return np.concatenate([np.eye(n, dtype=np.float32)[factors[..., i]] for i, n in enumerate(num_factor_values)],
                          axis=-1)


class Quantizer(gtd.DataView):
    """A data set with at most `max_factors[i]` values per factor: value v of a factor with n true values and
    m < n quantised ones is the true value floor(v * n / m)."""

    def __init__(self, wrapped_ground_truth_data, max_factors):
        super().__init__(wrapped_ground_truth_data)
        self.wrapped_ground_truth_data = wrapped_ground_truth_data
        self.true_num_factors = list(wrapped_ground_truth_data.factors_num_values)
        if len(max_factors) != len(self.true_num_factors):
            raise UserError("the PGM quantisation {} does not fit a data set with factor sizes {}".format(
                max_factors, self.true_num_factors))
        self.fake_num_factors = [int(v) for v in np.minimum(self.true_num_factors, max_factors)]

    @property
    def factors_num_values(self):
        return self.fake_num_factors

    def sample_factors(self, num, random_state):
        # The reference's version reads a missing attribute (it is never called there); this one works.
        return np.stack([random_state.randint(n, size=num) for n in self.fake_num_factors], axis=1).astype(np.int64)

    def translate_factors(self, factors):
        """Quantised factor values -> the wrapped data set's values."""
        translated = np.array(factors, dtype=np.int64, copy=True)
        for i, (true, fake) in enumerate(zip(self.true_num_factors, self.fake_num_factors)):
            if true != fake:
                translated[:, i] = np.floor(translated[:, i] * (float(true) / float(fake)))
        return translated

    def sample_observations_from_factors(self, factors, random_state):
        return self.wrapped_ground_truth_data.sample_observations_from_factors(self.translate_factors(factors),
                                                                               random_state)
