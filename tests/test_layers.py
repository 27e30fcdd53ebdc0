"""The package's layers (its docstring, DESIGN §9) hold: every import of every module, read with `ast` (imports
inside functions too), points down or sideways within its layer; no library module imports `cli`; evaluation
never imports methods; a metric never imports visualize; and no two modules import each other, even through
others."""
import ast
import os

import dlib_torch

PACKAGE_DIR = os.path.dirname(dlib_torch.__file__)

# Layer of each top-level package of dlib_torch: a module may import its own layer and the layers below.
LAYERS = {
    "cli": 4,
    "methods": 3, "postprocessing": 3, "evaluation": 3, "visualize": 3, "importer": 3, "validation": 3,
    "examples": 3,
    "training": 2,
    "data": 1, "config": 1,
    "studies": 1,  # configs/studies/, installed as dlib_torch.studies: sweeps built from config/ and data/
    "utils": 0,
}
# Imports a layer's rank allows but the design forbids: (importing package prefix, imported package prefix).
FORBIDDEN = [
    ("dlib_torch.evaluation", "dlib_torch.methods"),
    ("dlib_torch.evaluation.metrics", "dlib_torch.visualize"),
    ("dlib_torch.evaluation.udr.metrics", "dlib_torch.visualize"),
]


def _modules():
    """{module name: path} of every module of the installed package."""
    found = {}
    for directory, folders, files in os.walk(PACKAGE_DIR):
        folders[:] = [f for f in folders if f != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                relative = os.path.relpath(os.path.join(directory, name), os.path.dirname(PACKAGE_DIR))
                module = relative[:-3].replace(os.sep, ".")
                found[module[:-len(".__init__")] if module.endswith(".__init__") else module] = \
                    os.path.join(directory, name)
    return found


MODULES = _modules()


def _imports(module, path):
    """The dlib_torch modules `module` imports (absolute names; `from x import y` counts y when it is a module)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names = [base + "." + alias.name if base + "." + alias.name in MODULES else base for alias in node.names]
        else:
            continue
        imported.update(name for name in names if name == "dlib_torch" or name.startswith("dlib_torch."))
    return imported


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module):
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS[parts[1]]


def test_every_package_has_a_layer():
    top = {module.split(".")[1] for module in MODULES if module.count(".") >= 1}
    assert top <= set(LAYERS), "packages without a layer: {}".format(sorted(top - set(LAYERS)))


def test_imports_point_down_only():
    upward = sorted("{} -> {}".format(module, target) for module, targets in GRAPH.items() for target in targets
                    if _layer(module) is not None and _layer(target) is not None and _layer(target) > _layer(module))
    assert upward == []


def test_no_forbidden_imports():
    forbidden = sorted("{} -> {}".format(module, target) for module, targets in GRAPH.items() for target in targets
                       for source, destination in FORBIDDEN
                       if (module == source or module.startswith(source + ".")) and
                       (target == destination or target.startswith(destination + ".")))
    assert forbidden == []


def test_no_import_cycles():
    cycles = []
    state = {}

    def visit(module, stack):
        state[module] = "open"
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if target not in GRAPH:
                continue
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])
    # A package's __init__ importing its own modules is not a cycle worth reporting.
    cycles = [c for c in cycles if not all(part.startswith(c.split(" -> ")[0]) for part in c.split(" -> "))]
    assert cycles == []


def test_the_layers_are_stated_in_the_package_docstring():
    doc = dlib_torch.__doc__ or ""
    for package in LAYERS:
        assert package in doc, package
