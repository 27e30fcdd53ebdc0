"""disentanglement_lib's own metric code, without TensorFlow, to compare our numbers with (tests, benchmarks).

Its metric modules import only numpy, scipy, scikit-learn, absl, six and `gin.tf` (TensorFlow comes in through
`gin.tf` alone). `install` puts disentanglement_lib 1.5 from PyPI into a directory with `pip --no-deps`; `load`
imports its metric modules with a small stand-in for gin, so that their configurables (same names as ours:
`mig`, `discretizer`, ...) never enter gin's registry and cannot make our bindings ambiguous.
"""
import functools
import importlib
import inspect
import os
import subprocess
import sys
import types

REQUIREMENT = "disentanglement-lib==1.5"
METRIC_MODULES = ("utils", "beta_vae", "factor_vae", "mig", "dci", "sap_score", "modularity_explicitness", "irs",
                  "unsupervised_metrics", "downstream_task", "reduced_downstream_task", "strong_downstream_task",
                  "fairness")


class GinStandIn(types.ModuleType):
    """The part of gin the reference's metric modules use: `configurable`, `REQUIRED`, and bindings."""

    REQUIRED = object()

    def __init__(self):
        super().__init__("gin")
        self.bindings = {}
        self.tf = types.ModuleType("gin.tf")

    def bind(self, configurable_name, **params):
        self.bindings.setdefault(configurable_name, {}).update(params)

    def configurable(self, name, blacklist=(), **unused):
        def decorate(function):
            signature = inspect.signature(function)

            def configured(*args, **kwargs):
                bound = signature.bind_partial(*args, **kwargs).arguments
                for param, value in self.bindings.get(name, {}).items():
                    if param not in bound:
                        kwargs[param] = value
                missing = [p.name for p in signature.parameters.values()
                           if p.default is self.REQUIRED and p.name not in bound and p.name not in kwargs]
                if missing:
                    raise TypeError("reference {} needs {}".format(name, missing))
                return function(*args, **kwargs)

            return functools.update_wrapper(configured, function)
        return decorate


def install(target):
    """Installs the reference into `target` unless it is there; atomic, so concurrent processes may race."""
    if not os.path.isdir(os.path.join(target, "disentanglement_lib")):
        staging = "{}.{}".format(target, os.getpid())
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", staging,
                        REQUIREMENT], check=True)
        try:
            os.rename(staging, target)
        except OSError:  # another process got there first
            pass
    return target


# Modules the reference's unified_scores imports only to draw and write files (its visualize/ and utils/results.py);
# `load(..., picture_stand_ins=True)` replaces them with empty modules while it loads, so no picture can be drawn.
PICTURE_MODULES = ("tensorflow", "tensorflow.compat", "tensorflow.compat.v1", "seaborn")


def load(target, metric_modules=METRIC_MODULES, other_modules=(), picture_stand_ins=False):
    """The reference's modules installed in `target`, by name (`disentanglement_lib.evaluation.metrics.<name>`
    for `metric_modules`, `disentanglement_lib.<path>` for `other_modules`), plus `gin`, their GinStandIn.

    With `picture_stand_ins`, PICTURE_MODULES are empty stand-ins during the import (for `unified_scores`, whose
    numbers need neither TensorFlow nor seaborn); they are removed from sys.modules afterwards.
    """
    stand_in = GinStandIn()
    stand_in_names = PICTURE_MODULES if picture_stand_ins else ()
    saved = {name: sys.modules.get(name) for name in ("gin", "gin.tf", "six", "six.moves") + stand_in_names}
    sys.modules["gin"], sys.modules["gin.tf"] = stand_in, stand_in.tf
    for name in stand_in_names:
        sys.modules[name] = types.ModuleType(name)
    if picture_stand_ins:
        sys.modules["tensorflow.compat.v1"].gfile = types.ModuleType("gfile")
    if importlib.util.find_spec("six") is None:  # the reference's only other unlisted dependency
        six = types.ModuleType("six")
        six.moves = types.ModuleType("six.moves")
        six.moves.range = range
        sys.modules["six"], sys.modules["six.moves"] = six, six.moves
    sys.path.insert(0, target)
    try:
        modules = {name: importlib.import_module("disentanglement_lib.evaluation.metrics." + name)
                   for name in metric_modules}
        for path in other_modules:
            modules[path.rsplit(".", 1)[-1]] = importlib.import_module("disentanglement_lib." + path)
    finally:
        sys.path.remove(target)
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return types.SimpleNamespace(gin=stand_in, **modules)
