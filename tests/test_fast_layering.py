"""The fast engine stands beside the layers: it may import nn, optim and data, never train or anything above it,
and its modules use one another only through public names (no ``from .x import _private``)."""

from __future__ import annotations

import ast
from pathlib import Path

import backproplab.fast

FAST = Path(backproplab.fast.__file__).parent
ABOVE = ("train", "experiments", "report", "cli")


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


def test_the_fast_package_imports_nothing_above_it() -> None:
    files = sorted(FAST.glob("*.py"))
    assert len(files) >= 8
    bad = [(f.name, m) for f in files for m, _ in _imports(f.read_text())
           if any(m == f"backproplab.{a}" or m.startswith(f"backproplab.{a}.") for a in ABOVE)]
    assert bad == []


def test_fast_modules_import_no_private_names_from_one_another() -> None:
    bad = [(f.name, m, n) for f in sorted(FAST.glob("*.py")) for m, names in _imports(f.read_text())
           if m.startswith("backproplab.fast") for n in names if n.startswith("_")]
    assert bad == []


def test_the_checks_resolve_relative_imports_as_they_would_fail() -> None:
    source = "def f():\n    from ..train.metrics import evaluate\n    from .kernels import _step_row\nimport numba\n"
    assert _imports(source) == [("numba", []), ("backproplab.train.metrics", ["evaluate"]),
                                ("backproplab.fast.kernels", ["_step_row"])]
