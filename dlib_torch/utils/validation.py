"""Checks of user-facing values, run before any work: each names the parameter, the value and what is allowed.

Every stage validates its gin parameters in one place (e.g. `train.validate_parameters`) with these; a bad
value raises ConfigError, which the command line prints as one line with exit status 2.
"""
import numbers

import gin

from dlib_torch.utils.errors import ConfigError


def _describe(value):
    return repr(value)


def check_int(name, value, minimum=None, maximum=None):
    """An integer (bools, fractional floats and strings are refused) within [minimum, maximum]; returns int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Number) or \
            (not isinstance(value, numbers.Integral) and not float(value).is_integer()):
        raise ConfigError("{} = {} is not an integer; it must be {}".format(name, _describe(value),
                                                                           _range_text("an integer", minimum,
                                                                                       maximum)))
    _check_range(name, value, minimum, maximum, "an integer")
    return int(value)


def check_float(name, value, minimum=None, maximum=None, minimum_inclusive=True):
    """A real number (not a bool or string, finite) within the range; returns float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value or \
            value in (float("inf"), float("-inf")):
        raise ConfigError("{} = {} is not a finite number; it must be {}".format(
            name, _describe(value), _range_text("a number", minimum, maximum, minimum_inclusive)))
    _check_range(name, value, minimum, maximum, "a number", minimum_inclusive)
    return float(value)


def check_bool(name, value):
    """True or False (not 0/1 or a string)."""
    if not isinstance(value, bool):
        raise ConfigError("{} = {} is not a boolean; it must be True or False".format(name, _describe(value)))
    return value


def check_choice(name, value, choices):
    """One of `choices`."""
    if value not in choices:
        raise ConfigError("{} = {} is not allowed; it must be one of {}".format(
            name, _describe(value), ", ".join(repr(c) for c in choices)))
    return value


def check_string(name, value, allow_empty=False):
    """A string (non-empty unless `allow_empty`)."""
    if not isinstance(value, str) or (not allow_empty and not value):
        raise ConfigError("{} = {} is not allowed; it must be a {}string".format(
            name, _describe(value), "" if allow_empty else "non-empty "))
    return value


def _check_range(name, value, minimum, maximum, kind, minimum_inclusive=True):
    below = minimum is not None and (value < minimum if minimum_inclusive else value <= minimum)
    above = maximum is not None and value > maximum
    if below or above:
        raise ConfigError("{} = {} is out of range; it must be {}".format(
            name, _describe(value), _range_text(kind, minimum, maximum, minimum_inclusive)))


def _range_text(kind, minimum, maximum, minimum_inclusive=True):
    parts = []
    if minimum is not None:
        parts.append("{} {}".format(">=" if minimum_inclusive else ">", minimum))
    if maximum is not None:
        parts.append("<= {}".format(maximum))
    return kind + (" " + " and ".join(parts) if parts else "")


def configurable_name(fn_or_class):
    """The gin name of a configurable (for messages such as `group_vae_argmax.beta = -1 ...`), else its name."""
    configurable = gin.config._inverse_lookup(fn_or_class)  # pylint: disable=protected-access
    return configurable.name if configurable else getattr(fn_or_class, "__name__", str(fn_or_class))
