"""A small, safe language for held-out predicates over factor names and value indices.

Example: `shape == 0 and posX >= 16`. Allowed: factor names, integers, comparisons (chained, as in
`14 <= orientation <= 25`), `in`/`not in` with a list of integers, `+ - * // %`, `and`, `or`, `not` and
parentheses. The text is parsed with Python's `ast` and walked node by node; nothing is ever evaluated
as code. A predicate evaluates to a boolean array over a grid of factor indices.
"""
import ast
import operator

import numpy as np

from dlib_torch.utils.errors import ConfigError

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}


class Predicate:
    """A parsed predicate; `evaluate(values)` maps factor name -> int array to a boolean array."""

    def __init__(self, text, factor_names):
        self.text = text
        self.factor_names = list(factor_names)
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as e:
            offset = max((e.offset or 1) - 1, 0)
            token = text.strip()[offset:].split(" ")[0] or "end of text"
            raise ConfigError("malformed split predicate {!r}: bad token {!r} at column {}".format(
                text, token, offset + 1)) from None
        self._root = tree.body
        self._check(self._root)

    def _check(self, node):
        """Rejects anything outside the language before evaluation."""
        if isinstance(node, ast.BoolOp) and isinstance(node.op, (ast.And, ast.Or)):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE and not isinstance(op, (ast.In, ast.NotIn)):
                    self._fail(op)
            for operand in [node.left] + node.comparators:
                self._check(operand)
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for element in node.elts:
                if not (isinstance(element, ast.Constant) and _is_int(element.value)):
                    self._fail(element)
        elif isinstance(node, ast.Name):
            if node.id not in self.factor_names:
                raise ConfigError("unknown factor {!r} in split predicate {!r}; factors: {}".format(
                    node.id, self.text, ", ".join(self.factor_names)))
        elif isinstance(node, ast.Constant) and _is_int(node.value):
            pass
        else:
            self._fail(node)

    def _fail(self, node):
        token = ast.unparse(node) if isinstance(node, ast.AST) and not isinstance(node, (ast.cmpop, ast.operator)) \
            else type(node).__name__
        raise ConfigError("unsupported token {!r} in split predicate {!r}; use factor names, integers, "
                          "comparisons, in [...], + - * // %, and, or, not".format(token, self.text))

    def evaluate(self, values):
        """`values` maps each factor name to an int array (broadcastable); returns a boolean array."""
        return np.asarray(self._eval(self._root, values), dtype=bool)

    def _eval(self, node, values):
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v, values) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            result = parts[0]
            for part in parts[1:]:
                result = combine(result, part)
            return result
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, values)
            return np.logical_not(operand) if isinstance(node.op, ast.Not) else -operand
        if isinstance(node, ast.Compare):
            result = True
            left = self._eval(node.left, values)
            for op, comparator in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    members = [element.value for element in comparator.elts]
                    test = np.isin(left, members)
                    test = np.logical_not(test) if isinstance(op, ast.NotIn) else test
                    right = None
                else:
                    right = self._eval(comparator, values)
                    test = _COMPARE[type(op)](left, right)
                result = np.logical_and(result, test)
                left = right
            return result
        if isinstance(node, ast.BinOp):
            return _ARITHMETIC[type(node.op)](self._eval(node.left, values), self._eval(node.right, values))
        if isinstance(node, ast.Name):
            return values[node.id]
        return node.value  # an integer constant


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def grid_mask(predicate, factor_names, factors_num_values):
    """Evaluates a predicate over the whole factor grid: a flat boolean array in row-major grid order."""
    if isinstance(predicate, str):
        predicate = Predicate(predicate, factor_names)
    sizes = [int(s) for s in factors_num_values]
    values = {}
    for axis, (name, size) in enumerate(zip(factor_names, sizes)):
        shape = [1] * len(sizes)
        shape[axis] = size
        values[name] = np.arange(size, dtype=np.int64).reshape(shape)
    mask = np.broadcast_to(predicate.evaluate(values), sizes)
    return np.ascontiguousarray(mask).reshape(-1)
