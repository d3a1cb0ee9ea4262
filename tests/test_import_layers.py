"""The package's layers (docs/architecture.md): no module imports a higher layer, not even inside a function.

Read from the source with `ast`, so imports inside functions and ``TYPE_CHECKING`` blocks count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import backproplab

PACKAGE = Path(backproplab.__file__).resolve().parent

# Lowest first; a module may import its own layer and those below. "backproplab" is the root package (the public
# API: it re-exports data, nn, optim, check and train).
LAYERS: list[set[str]] = [
    {"errors", "_xp", "_io", "_lock", "_memory", "_npy", "_text", "_environ", "backend"},  # foundations
    {"data", "classic"},
    {"nn"},
    {"optim", "check"},
    {"fast"},  # the compiled engine: planned from nn/optim objects, run by train
    {"train", "explain"},
    {"backproplab", "rundir", "courses"},
    {"experiments"},
    {"report", "tracking"},
    {"lab"},
    {"cli"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

# Known violations, each with its reason; the lead removes them. An entry that no longer occurs fails the test.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """``backproplab.nn.dense`` -> ``nn``; ``backproplab`` and ``backproplab.__version__`` -> ``backproplab``."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in {"__version__", "__all__"}:
        return "backproplab"
    return parts[1]


def imported_modules(path: Path) -> list[str]:
    """Every backproplab module ``path`` imports, anywhere in the file, relative imports resolved."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append(node.module or "")
                continue
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            if node.module:
                found.append(".".join([*base, node.module]))
            else:  # from .. import x, y: each may be a module
                found += [".".join([*base, alias.name]) for alias in node.names]
    return [m for m in found if m == "backproplab" or m.startswith("backproplab.")]


def violations() -> set[tuple[str, str]]:
    """``(file relative to the package, unit imported)`` for every import of a higher layer."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        for imported in imported_modules(path):
            target = unit_of(imported)
            if RANK[target] > RANK[source]:
                found.add((path.relative_to(PACKAGE).as_posix(), target))
    return found


def test_every_module_has_a_layer() -> None:
    units = {unit_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert units - RANK.keys() == set(), "place these in LAYERS (and in docs/architecture.md)"


def test_no_module_imports_a_higher_layer() -> None:
    found = violations()
    new = sorted(found - KNOWN_EXCEPTIONS)
    assert new == [], "imports of a higher layer (file, layer imported): " + repr(new)
    fixed = sorted(KNOWN_EXCEPTIONS - found)
    assert fixed == [], f"no longer violations: remove them from KNOWN_EXCEPTIONS: {fixed}"


def test_the_checker_sees_imports_inside_functions() -> None:
    path = PACKAGE / "fast" / "fast_trainer.py"  # imports its kernels inside a function (numba only when used)
    assert "backproplab.fast.example_kernel" in imported_modules(path)
