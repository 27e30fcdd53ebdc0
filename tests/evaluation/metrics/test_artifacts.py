"""Metrics hand pictures over to the evaluation stage; no metric module imports visualize/."""
import ast
import os
import threading

import numpy as np

from dlib_torch.evaluation import metrics
from dlib_torch.evaluation.metrics import artifacts


def test_what_is_handed_over_reaches_the_innermost_block_of_its_thread_only():
    artifact = artifacts.FactorCodeMatrix("dir", "m", np.eye(2))
    artifacts.hand_over(artifact)  # outside a block: dropped
    with artifacts.collected() as outer:
        artifacts.hand_over(artifact)
        with artifacts.collected() as inner:
            artifacts.hand_over(artifact)
            other_thread = threading.Thread(target=artifacts.hand_over, args=(artifact,))
            other_thread.start()
            other_thread.join()
    assert outer == [artifact] and inner == [artifact]


def test_no_metric_module_imports_visualize():
    directory = os.path.dirname(metrics.__file__)
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(directory, name)) as f:
            tree = ast.parse(f.read())
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [module for module in imported if module.startswith("dlib_torch.visualize")], name
