"""Triplets of the composition task of Montero et al., "The Role of Disentanglement in Generalisation" (ICLR 2021).

A triplet asks a model to change one factor of a reference image to the value shown by a "command" image:
  reference  factors z, a training combination;
  dim        the factor to change (uniform over the factors with more than one value), action = one-hot(dim);
  target     z with factor `dim` set to another value;
  command    a combination with the target's value on `dim`, its other factors random.
Training triplets use training combinations only (reference, command and target). Held-out triplets have a
held-out target; the reference stays on the training side, and the command too (`command_side='train'`,
which needs the target's value on `dim` to occur in training; extrapolation splits hold out whole values, so
their held-out triplets need `command_side='any'`, commands from the whole grid).

Everything works on factor indices and boolean masks over the row-major factor grid, vectorised: a batch costs a
few array operations per factor, and drawing with the same RandomState gives the same triplets.
"""
import collections

import numpy as np

from dlib_torch.data.ground_truth import correlated_factors
from dlib_torch.data.ground_truth import splits
from dlib_torch.data.ground_truth import util
from dlib_torch.utils.errors import ConfigError

COMMAND_SIDES = ("train", "any")
_MAX_REDRAWS = 100  # rounds of redrawing the rows that fell on an invalid combination before enumerating

TripletFactors = collections.namedtuple("TripletFactors", ["reference", "command", "target", "dim"])


class TripletSampler:
    """Draws triplet factors on a factor grid restricted to `train_mask` (held-out ones from `test_mask`)."""

    def __init__(self, factors_num_values, train_mask=None, test_mask=None, split_name=None, sample_references=None):
        self.sample_references = sample_references  # (num, random_state) -> references; None: uniform
        self.sizes = np.asarray(factors_num_values, dtype=np.int64)
        grid_size = int(np.prod(self.sizes))
        self.train_mask = np.ones(grid_size, bool) if train_mask is None else np.asarray(train_mask, bool)
        self.test_mask = None if test_mask is None else np.asarray(test_mask, bool)
        self.split_name = split_name
        self.bases = util.row_major_bases(self.sizes)
        self.changeable = np.flatnonzero(self.sizes > 1)  # factors a triplet can change
        if self.changeable.size == 0:
            raise ConfigError("the composition task needs a factor with at least two values; the data set has "
                              "factors of sizes {}".format(self.sizes.tolist()))
        grid = self.train_mask.reshape(self.sizes)
        # value_in_train[f][v]: some training combination has value v on factor f.
        self.value_in_train = [grid.any(axis=tuple(a for a in range(len(self.sizes)) if a != f))
                               for f in range(len(self.sizes))]

    @classmethod
    def from_data(cls, data):
        """The sampler of a training view: a `HeldOutData` side (its kept combinations) or a whole data set; under
        correlated factor sampling, references follow the correlated joint."""
        sample_references = None
        if isinstance(data, correlated_factors.CorrelatedFactors):
            sample_references, data = data.sample_factors, data.base
        if isinstance(data, splits.HeldOutData):
            return cls(data.factors_num_values, data.mask, split_name=data.split_name,
                       sample_references=sample_references)
        return cls(data.factors_num_values, sample_references=sample_references)

    @classmethod
    def from_split(cls, data, split, train_predicate=None, side="train"):
        """The sampler of `data` under a held-out split, with both sides (`side` = the one trained on)."""
        if split is None:
            return cls(data.factors_num_values)
        train_side, test_side = splits.held_out_split(data, split, train_predicate)
        if side == "test":
            train_side, test_side = test_side, train_side
        return cls(data.factors_num_values, train_side.mask, test_side.mask, train_side.split_name)

    @property
    def num_factors(self):
        return len(self.sizes)

    def _valid(self, factors, mask):
        return mask[factors @ self.bases]

    def training_triplets(self, num, random_state):
        """`num` training triplets (every combination on the training side), as TripletFactors."""
        train_rows = np.flatnonzero(self.train_mask)
        if train_rows.size == 0:
            raise ConfigError("the held-out split {!r} leaves no training combinations".format(self.split_name))
        reference = self._references(train_rows, num, random_state)
        dim = self.changeable[random_state.randint(self.changeable.size, size=num)]
        target, ok = self._change_one_factor(reference, dim, self.train_mask, random_state)
        for _ in range(_MAX_REDRAWS):  # references with no training neighbour along `dim`: draw them again
            if ok.all():
                break
            bad = np.flatnonzero(~ok)
            reference[bad] = self._references(train_rows, bad.size, random_state)
            dim[bad] = self.changeable[random_state.randint(self.changeable.size, size=bad.size)]
            target[bad], ok[bad] = self._change_one_factor(reference[bad], dim[bad], self.train_mask, random_state)
        if not ok.all():
            raise ConfigError("the held-out split {!r} leaves training combinations with no other training "
                              "combination that differs in one factor; the composition task needs such pairs"
                              .format(self.split_name))
        command = self._commands(target, dim, self.train_mask, random_state)
        return TripletFactors(reference, command, target, dim)

    def _references(self, train_rows, num, random_state):
        """`num` reference combinations on the training side: uniform, or from `sample_references`."""
        if self.sample_references is not None:
            return self.sample_references(num, random_state)
        return util.rows_to_factors(train_rows[random_state.randint(train_rows.size, size=num)], self.sizes)

    def held_out_triplets(self, num, random_state, command_side="train"):
        """`num` triplets whose target is a held-out combination, reference on the training side, command on the
        training side (`command_side='train'`) or anywhere on the grid (`'any'`)."""
        if self.test_mask is None:
            raise ConfigError("held-out triplets need a held-out split")
        if command_side not in COMMAND_SIDES:
            raise ConfigError("command_side must be one of {}, not {!r}".format(COMMAND_SIDES, command_side))
        command_mask = self.train_mask if command_side == "train" else np.ones_like(self.train_mask)
        eligible = self._eligible_targets(command_side)  # [grid, num_factors]: (target, dim) usable
        eligible_rows = np.flatnonzero(eligible.any(axis=1))
        if eligible_rows.size == 0:
            raise ConfigError(
                "held-out split {!r}: no held-out combination is one factor away from a training combination "
                "with a command image {}; {}".format(
                    self.split_name, "on the training side" if command_side == "train" else "anywhere",
                    "held-out values that never occur in training (extrapolation) need commands from the whole grid: "
                    "composition_reconstruction.held_out_commands = 'any' (or 'auto')"
                    if command_side == "train" else "this split has no held-out triplets"))
        target_rows = eligible_rows[random_state.randint(eligible_rows.size, size=num)]
        target = util.rows_to_factors(target_rows, self.sizes)
        dim = _choose_true(eligible[target_rows], random_state)
        reference, ok = self._change_one_factor(target, dim, self.train_mask, random_state)
        assert ok.all()  # eligibility guarantees a training neighbour
        command = self._commands(target, dim, command_mask, random_state)
        return TripletFactors(reference, command, target, dim)

    def has_held_out_triplets(self, command_side="train"):
        """Whether some held-out triplet exists with commands from `command_side`."""
        return self.test_mask is not None and bool(self._eligible_targets(command_side).any())

    def _eligible_targets(self, command_side):
        """[grid rows, num_factors] bool: held-out target t with dim f has a training neighbour along f (and a
        command with t's value on f on the command side)."""
        grid_train = self.train_mask.reshape(self.sizes)
        eligible = np.zeros((self.train_mask.size, self.num_factors), bool)
        for f in self.changeable:
            # Number of training combinations on the line through each cell along f, minus the cell itself.
            line_count = grid_train.sum(axis=f, keepdims=True) - grid_train
            has_neighbour = np.broadcast_to(line_count > 0, grid_train.shape).reshape(-1)
            if command_side == "train":
                shape = [1] * self.num_factors
                shape[f] = -1
                value_ok = np.broadcast_to(self.value_in_train[f].reshape(shape), grid_train.shape).reshape(-1)
                has_neighbour = has_neighbour & value_ok
            eligible[:, f] = has_neighbour & self.test_mask
        return eligible

    def _change_one_factor(self, factors, dim, mask, random_state):
        """Sets factor `dim` of each row to another value uniformly among those that land in `mask`.

        Returns (new factors, ok) where ok is False for rows without any such value (left unchanged).
        """
        max_values = int(self.sizes.max())
        values = np.arange(max_values)
        candidates = np.repeat(factors[:, None, :], max_values, axis=1)  # [N, max_values, F]
        rows = np.arange(len(factors))
        candidates[rows[:, None], values[None, :], dim[:, None]] = values[None, :]
        in_range = values[None, :] < self.sizes[dim][:, None]
        valid = in_range & (values[None, :] != factors[rows, dim][:, None])
        valid[in_range] &= self._valid(candidates[in_range], mask)
        ok = valid.any(axis=1)
        chosen = _choose_true(valid, random_state)
        changed = factors.copy()
        changed[rows, dim] = np.where(ok, chosen, factors[rows, dim])
        return changed, ok

    def _commands(self, target, dim, mask, random_state):
        """Combinations in `mask` with the target's value on `dim` and the other factors uniform among those."""
        rows = np.arange(len(target))
        command = np.empty_like(target)
        pending = rows
        for _ in range(_MAX_REDRAWS):
            if pending.size == 0:
                return command
            draw = np.stack([random_state.randint(n, size=pending.size) for n in self.sizes], axis=1)
            draw[np.arange(pending.size), dim[pending]] = target[pending, dim[pending]]
            ok = self._valid(draw, mask)
            command[pending[ok]] = draw[ok]
            pending = pending[~ok]
        # Rare values: enumerate the combinations that carry them.
        grid = mask.reshape(self.sizes)
        for i in pending:
            f = int(dim[i])
            v = int(target[i, f])
            choices = np.argwhere(np.take(grid, v, axis=f))
            if len(choices) == 0:
                raise ConfigError("held-out split {!r}: no command image has value {} of factor {} on the "
                                  "allowed side".format(self.split_name, v, f))
            picked = np.insert(choices[random_state.randint(len(choices))], f, v)
            command[i] = picked
        return command


def _choose_true(valid, random_state):
    """For each row of a bool matrix, the column of one True entry chosen uniformly (0 if none)."""
    scores = random_state.uniform(size=valid.shape)
    return np.argmax(np.where(valid, scores, -1.0), axis=1)


def action_one_hot(dim, num_factors):
    """Actions [N, num_factors] float32: one-hot of the changed factor."""
    actions = np.zeros((len(dim), num_factors), np.float32)
    actions[np.arange(len(dim)), dim] = 1.0
    return actions


def render(data, triplet_factors, random_state):
    """Images (reference, command, target), each float32 [N, H, W, C], and the actions [N, num_factors]."""
    images = [np.asarray(data.sample_observations_from_factors(f, random_state), dtype=np.float32)
              for f in (triplet_factors.reference, triplet_factors.command, triplet_factors.target)]
    return images[0], images[1], images[2], action_one_hot(triplet_factors.dim, len(data.factors_num_values))
