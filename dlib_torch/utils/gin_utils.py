"""gin at the edges: parsing a stage's config files and bindings with errors that name the culprit."""
import contextlib
import os

import gin

from dlib_torch.utils.errors import ConfigError


def parse_files_and_bindings(config_files, bindings, finalize_config=False):
    """Parses gin files, then bindings; a malformed file or unknown binding raises a one-line ConfigError.

    Files are parsed one by one so that the error names the file it comes from.
    """
    config_files = [f for f in (config_files or []) if f]
    bindings = [b for b in (bindings or []) if b]
    for path in config_files:
        if not os.path.exists(path):
            raise ConfigError("gin config file {} does not exist".format(path))
        try:
            gin.parse_config_file(path, skip_unknown=False)
        except Exception as e:  # gin raises several types (ValueError, SyntaxError, ...)
            raise ConfigError("in gin file {}: {}".format(path, _one_line(e))) from None
    for binding in bindings:
        try:
            gin.parse_config(binding)
        except Exception as e:
            raise ConfigError("in gin binding {!r}: {}".format(binding, _one_line(e))) from None
    if finalize_config:
        gin.finalize()


@contextlib.contextmanager
def configured(config_files, bindings):
    """Parses gin files and bindings for one stage, runs the body, and always clears gin afterwards.

    gin's error for a missing REQUIRED parameter becomes a one-line ConfigError.
    """
    try:
        parse_files_and_bindings(config_files, bindings)
        try:
            yield
        except RuntimeError as e:
            if "Required bindings" in str(e):
                raise ConfigError(" ".join(str(e).split())) from None
            raise
    finally:
        gin.clear_config()


def query_parameter_or(name, default=None):
    """Returns the bound value of a gin parameter ("scope.param"), or `default` if it is not bound."""
    try:
        return gin.query_parameter(name)
    except ValueError:
        return default


def _one_line(error):
    text = " ".join(str(error).split())
    return "{}: {}".format(type(error).__name__, text) if text else type(error).__name__
