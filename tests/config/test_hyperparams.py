"""Tests of the sweep helpers: the reference's semantics, orders included (they fix model numbers)."""
import pytest

from dlib_torch.config import hyperparams as h


def test_sweep_and_fixed():
    assert h.sweep("vae.beta", [1., 2.]) == [{"vae.beta": 1.}, {"vae.beta": 2.}]
    assert h.fixed("model.name", "vae", length=3) == [{"model.name": "vae"}] * 3
    assert h.categorical((1, 2)) == [1, 2] and h.discrete([3]) == [3]


def test_zipit_broadcasts_singletons_and_keeps_key_order():
    zipped = h.zipit([h.fixed("a", 0), h.sweep("b", [1, 2]), h.fixed("c", 3)])
    assert zipped == [{"a": 0, "b": 1, "c": 3}, {"a": 0, "b": 2, "c": 3}]
    assert [list(d) for d in zipped] == [["a", "b", "c"]] * 2


def test_zipit_later_lists_override():
    assert h.zipit([h.fixed("a", 0), h.fixed("a", 1)]) == [{"a": 1}]


def test_zipit_rejects_different_lengths():
    with pytest.raises(ValueError, match="different lengths"):
        h.zipit([h.sweep("a", [1, 2]), h.sweep("b", [1, 2, 3])])


def test_zipit_does_not_modify_its_inputs():
    single, pair = h.fixed("a", 0), h.sweep("b", [1, 2])
    h.zipit([single, pair])
    assert single == [{"a": 0}] and pair == [{"b": 1}, {"b": 2}]


def test_chainit_concatenates():
    assert h.chainit([h.sweep("a", [1]), h.sweep("b", [2, 3])]) == [{"a": 1}, {"b": 2}, {"b": 3}]


def test_product_first_list_slowest():
    result = h.product([h.sweep("a", [0, 1]), h.sweep("b", [0, 1, 2])])
    assert [(d["a"], d["b"]) for d in result] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert list(result[0]) == ["a", "b"]


def test_to_bindings_quotes_strings_but_not_references():
    bindings = h.to_bindings({"dataset.name": "dsprites_full", "model.model": "@vae()", "vae.beta": 4.,
                              "model.random_seed": 3, "a.flag": True, "a.list": [10, 100]})
    assert bindings == ["dataset.name = 'dsprites_full'", "model.model = @vae()", "vae.beta = 4.0",
                        "model.random_seed = 3", "a.flag = True", "a.list = [10, 100]"]
