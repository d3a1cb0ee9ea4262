"""The fast engine's modules use one another only through public names (no ``from .x import _private``); that no
module imports a higher layer is tests/test_import_layers.py's check."""

from __future__ import annotations

import ast
from pathlib import Path

import backproplab.fast

FAST = Path(backproplab.fast.__file__).parent


def _imports(source: str) -> list[tuple[str, list[str]]]:
    """``(absolute module, imported names)`` of every import in the source of a module of backproplab.fast, at any
    depth (inside functions too)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["backproplab", "fast"][: 2 - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_fast_modules_import_no_private_names_from_one_another() -> None:
    assert len(list(FAST.glob("*.py"))) >= 8
    bad = [
        (f.name, m, n)
        for f in sorted(FAST.glob("*.py"))
        for m, names in _imports(f.read_text())
        if m.startswith("backproplab.fast")
        for n in names
        if n.startswith("_")
    ]
    assert bad == []


def test_the_check_resolves_relative_imports_inside_functions() -> None:
    source = "def f():\n    from ..train.metrics import evaluate\n    from .kernels import _step_row\nimport numba\n"
    assert _imports(source) == [
        ("numba", []),
        ("backproplab.train.metrics", ["evaluate"]),
        ("backproplab.fast.kernels", ["_step_row"]),
    ]
