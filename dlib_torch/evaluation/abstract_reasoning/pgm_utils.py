"""Procedurally generated matrices in the space of ground-truth factor values (the reference's pgm_utils).

A PGM is a 3x3 matrix of panels, each panel a vector of factor values. `num_relations` factors are constant
along every row (ConstantRelation); every other factor is random, but its first two rows must not all be
constant nor all distinct (NonActiveRelation), so those factors carry no rule. The bottom-right panel is the
answer; `num_solutions - 1` wrong answers violate at least one active relation. Random draws are made in the
reference's order, so a seed gives the reference's factor matrices (`randint(n)` draws what the reference's
`choice(n)` draws, faster; rows are checked as Python lists, the inner loop of PGM generation).
"""
import numpy as np


class PGM:
    """A PGM where ground-truth factors are integer values: `matrix` [rows, cols, factors] (the solution)
    and `other_solutions` [num_solutions - 1, factors] (the wrong answers)."""

    def __init__(self, random_state, num_relations, atom_counts, sampling_strategy="easy", num_rows=3, num_cols=3,
                 num_solutions=6, unique_alternatives=False):
        """Samples a PGM.

        Args:
          random_state: np.random.RandomState the PGM is drawn with.
          num_relations: number of factors that are constant along each row.
          atom_counts: number of values of each factor.
          sampling_strategy: `easy` (wrong answers are the last panel of freshly designed PGMs that break the
            rules) or `hard` (wrong answers are random modifications of the correct answer).
          num_rows, num_cols: size of the matrix.
          num_solutions: number of answer candidates (the solution included), at least 1; with 1 there are no
            wrong answers and `other_solutions` is empty, [0, factors] (the reference's is np.array([])).
          unique_alternatives: also reject a wrong answer equal to one drawn before. The reference meant to
            (its check is a no-op `continue` in an inner loop), so by default duplicates stay possible, as there.
        """
        if int(num_solutions) < 1:
            raise ValueError("num_solutions is {}; a PGM needs at least 1 (its solution)".format(num_solutions))
        if sampling_strategy == "easy":
            sampling_fn = sample_easy_alternative
        elif sampling_strategy == "hard":
            sampling_fn = sample_hard_alternative
        else:
            raise ValueError("Only easy and hard sampling are currently supported.")
        self.design = PGMDesign(random_state, num_relations, atom_counts, num_rows, num_cols)
        self.matrix = self.design.sample()
        alternatives = []
        for _ in range(num_solutions - 1):
            alternatives.append(sampling_fn(self.design, self.matrix, alternatives, unique_alternatives))
        self.other_solutions = np.array(alternatives, dtype=np.int64).reshape(num_solutions - 1, len(atom_counts))


class PGMDesign:
    """The rules of a PGM (which factors are constant along rows), without the values."""

    def __init__(self, random_state, num_relations, atom_counts, num_rows=3, num_cols=3):
        self.random_state = random_state
        self.num_relations = num_relations
        self.atom_counts = list(atom_counts)
        self.num_rows = num_rows
        self.num_cols = num_cols
        self.num_factors = len(self.atom_counts)
        if self.num_factors < num_relations:
            raise ValueError("Cannot have less factors than relations.")
        relation_classes = [NonActiveRelation] * self.num_factors
        indices = list(range(self.num_factors))
        self.active_relations = []
        for _ in range(num_relations):
            selected_index = indices.pop(random_state.randint(len(indices)))
            self.active_relations.append(selected_index)
            relation_classes[selected_index] = ConstantRelation
        self.relations = [cls(num_atoms, num_rows, num_cols)
                          for cls, num_atoms in zip(relation_classes, self.atom_counts)]

    def sample(self):
        """Factor values [rows, cols, factors] (int64) that obey the design."""
        matrix = np.zeros((self.num_rows, self.num_cols, self.num_factors), dtype=np.int64)
        for i, relation in enumerate(self.relations):
            matrix[:, :, i] = relation.sample(self.random_state)
        return matrix

    def randomly_modify_solution(self, initial_solution):
        """A hard alternative: one active factor and every non-active factor of a panel resampled."""
        solution = np.copy(initial_solution)
        i = self.active_relations[self.random_state.randint(len(self.active_relations))]
        solution[i] = self.random_state.randint(self.relations[i].num_atoms)
        for i, relation in enumerate(self.relations):
            if i not in self.active_relations:
                solution[i] = self.random_state.randint(relation.num_atoms)
        return solution

    def is_consistent(self, matrix):
        """True if every factor of `matrix` [rows, cols, factors] obeys its relation."""
        return all(relation.is_consistent(matrix[:, :, i].tolist()) for i, relation in enumerate(self.relations))

    def resample_design(self):
        """Another design (other active factors) drawn with the same random state."""
        return PGMDesign(self.random_state, self.num_relations, self.atom_counts, self.num_rows, self.num_cols)


def _is_duplicate(candidate, already_sampled_alternatives):
    return any(np.array_equal(candidate, other) for other in already_sampled_alternatives)


def sample_easy_alternative(design, matrix, already_sampled_alternatives, unique_alternatives=False):
    """A wrong answer: the last panel of a freshly designed and sampled PGM that breaks `matrix`'s rules."""
    return _first_wrong_answer(lambda: design.resample_design().sample()[-1, -1, :], design, matrix,
                               already_sampled_alternatives, unique_alternatives, "alternative solutions")


def sample_hard_alternative(design, matrix, already_sampled_alternatives, unique_alternatives=False):
    """A wrong answer: the correct answer modified (repeatedly, until it breaks a rule)."""
    solution = [matrix[-1, -1]]  # each proposal modifies the previous one, as the reference's loop

    def propose():
        solution[0] = design.randomly_modify_solution(solution[0])
        return solution[0]

    return _first_wrong_answer(propose, design, matrix, already_sampled_alternatives, unique_alternatives,
                               "hard alternative solutions")


def _first_wrong_answer(propose, design, matrix, already_sampled_alternatives, unique_alternatives, what):
    """The first of up to 100 proposals that breaks the rules of `matrix` (and, if `unique_alternatives`, is not
    among those already sampled)."""
    for _ in range(100):
        alternative = propose()
        completed = np.copy(matrix)
        completed[-1, -1, :] = alternative
        if design.is_consistent(completed):
            continue
        if unique_alternatives and _is_duplicate(alternative, already_sampled_alternatives):
            continue
        return alternative
    raise ValueError("Could not sample {}.".format(what))


class Relation:
    """A rule on one factor's [rows, cols] values."""

    def __init__(self, num_atoms, num_rows=3, num_cols=3):
        if num_atoms < num_cols:
            raise ValueError("Cannot have less atoms than columns.")
        if num_atoms == 1:
            raise ValueError("Need more than one atom.")
        self.num_atoms = num_atoms
        self.num_rows = num_rows
        self.num_cols = num_cols

    @staticmethod
    def is_consistent(matrix):
        raise NotImplementedError()

    def sample(self, random_state):
        raise NotImplementedError()


def is_constant_row(row):
    return len(set(row)) == 1


def is_distinct_row(row):
    return len(set(row)) == len(row)


class ConstantRelation(Relation):
    """Every row holds one value."""

    @staticmethod
    def is_consistent(matrix):
        return all(is_constant_row(row) for row in matrix)

    def sample(self, random_state):
        return np.array([[random_state.randint(self.num_atoms)] * self.num_cols for _ in range(self.num_rows)])


class DistinctRelation(Relation):
    """Every row holds distinct values (defined as in the reference; no PGM type activates it)."""

    @staticmethod
    def is_consistent(matrix):
        return all(is_distinct_row(row) for row in matrix)

    def sample(self, random_state):
        return np.array([random_state.permutation(self.num_atoms)[:self.num_cols] for _ in range(self.num_rows)])


class NonActiveRelation(Relation):
    """Random values whose first rows are neither all constant nor all distinct (so they carry no rule)."""

    @staticmethod
    def is_consistent(matrix):
        relevant_matrix = list(matrix)[:-1]  # the last row holds the answer, which may be anything
        return not any(relation.is_consistent(relevant_matrix) for relation in (ConstantRelation, DistinctRelation))

    def sample(self, random_state):
        for _ in range(1000):
            matrix = random_state.randint(self.num_atoms, size=(self.num_rows, self.num_cols))
            if self.is_consistent(matrix.tolist()):
                return matrix
        raise ValueError("Could not sample non-relational matrix.")
