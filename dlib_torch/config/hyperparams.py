"""Hyper-parameter sweeps as lists of {gin parameter: value} dicts (disentanglement_lib's utils/hyperparams).

A sweep is a list of settings; `zipit`, `chainit` and `product` combine sweeps, and `to_bindings` turns one
setting into gin bindings. The order of the lists is the order of model numbers, so it is part of a study.
"""


def sweep(name, values):
    """One setting per value: [{name: value}, ...]."""
    return [{name: value} for value in values]


def categorical(items):
    """The values of a categorical hyper-parameter (kept for the reference's sweep files)."""
    return list(items)


def discrete(items):
    """The values of a discrete hyper-parameter (kept for the reference's sweep files)."""
    return list(items)


def fixed(name, value, length=1):
    """The same setting `length` times."""
    return [{name: value} for _ in range(length)]


def zipit(list_of_items):
    """Merges the i-th settings of every list; a list of length one is repeated to the others' length.

    Later lists override earlier ones on shared keys, and the keys keep the order of the lists.
    """
    lengths = {len(items) for items in list_of_items if len(items) != 1}
    if len(lengths) > 1:
        raise ValueError("Cannot zip lists of different lengths.")
    length = lengths.pop() if lengths else 1
    result = []
    for i in range(length):
        merged = {}
        for items in list_of_items:
            merged.update(items[0] if len(items) == 1 else items[i])
        result.append(merged)
    return result


def chainit(list_of_items):
    """Concatenates the lists of settings."""
    return [setting for items in list_of_items for setting in items]


def product(list_of_items):
    """Outer product of the lists: the first list varies slowest, the last fastest."""
    result = [{}]
    for items in list_of_items:
        result = [{**prefix, **setting} for prefix in result for setting in items]
    return result


def to_bindings(items):
    """Gin bindings "name = value" of one setting; strings are quoted unless they reference (`@...`)."""
    return ["{} = {}".format(name, _escape_value(value)) for name, value in items.items()]


def _escape_value(value):
    if isinstance(value, str) and not value.startswith("@"):
        return "'{}'".format(value)
    return str(value)
