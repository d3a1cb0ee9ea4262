"""The course facades compute nothing themselves: every formula is backproplab's (nn, losses, optim).

Two proofs. (1) Source: the facades contain no array arithmetic, no NumPy math and no array reductions, except
the few operations listed below, each of which is bookkeeping or npnn's scaling by the batch size (one
convention for where the 1/N of the mean goes), not a formula of the network. Adding any other arithmetic to a
facade fails this test until it is listed here with its reason. (2) Behaviour: the library's modules, losses,
penalty and optimizers are called exactly as often as one training step needs.
"""
# The course draws from NumPy's global generator; so do these tests, on purpose.
# ruff: noqa: NPY002

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backproplab import courses, nn, optim
from backproplab.courses import npnn
from backproplab.courses.cs231n import TwoLayerNet

FACADES = Path(courses.__file__).parent
pytestmark = pytest.mark.usefixtures("restore_global_numpy_rng")

# (file, function, expression) -> why it is not a formula of the network
ALLOWED_ARITHMETIC = {
    (
        "cs231n.py",
        "_forward_backward",
        "data_loss + penalty.penalty(params)",
    ): "the objective is the library's data loss plus the library's L2 penalty (two floats)",
    ("cs231n.py", "train", "num_train / batch_size"): "iterations per epoch (loop bookkeeping)",
    ("cs231n.py", "train", "it % iterations_per_epoch"): "is this iteration an epoch boundary",
    ("cs231n.py", "train", "it % 100"): "verbose print every 100 iterations",
    ("cs231n.py", "train", "epoch += 1"): "epoch counter",
    (
        "npnn/_convention.py",
        "per_example",
        "mean_loss_grad * batch_size",
    ): "npnn passes the gradient of the summed loss: N times backproplab's mean-loss gradient",
    ("npnn/_convention.py", "batch_mean", "p.grad /= batch_size"): "npnn's weight gradients are batch means",
    ("npnn/dataset.py", "__init__", "X.shape[0] // self.batch_size"): "number of full batches",
    ("npnn/dataset.py", "__init__", "int(y.max()) + 1"): "number of classes of integer labels",
    ("npnn/dataset.py", "__iter__", "self.size * self.batch_size"): "how many shuffled indices make full batches",
}
ALLOWED_NUMPY = {"np.asarray", "np.issubdtype"}  # conversions and dtype tests, no arithmetic
ALLOWED_CALLS = {
    ("cs231n.py", "train", "max"): "an epoch is at least one iteration: max(N / batch_size, 1)",
    ("npnn/model.py", "_means", "fmean"): "the course reports the mean over batches of per-batch values",
    ("npnn/dataset.py", "__init__", "y.max"): "the largest integer label (number of classes)",
}
# Array methods and builtins that compute: any call of these is a formula unless listed above.
COMPUTING_NAMES = {
    "sum",
    "mean",
    "fmean",
    "max",
    "min",
    "dot",
    "exp",
    "log",
    "sqrt",
    "prod",
    "clip",
    "matmul",
    "maximum",
    "minimum",
    "where",
    "tanh",
    "argmax",
    "std",
    "var",
    "abs",
    "power",
    "einsum",
    "tensordot",
    "outer",
    "cumsum",
}


def _facade_files() -> list[Path]:
    files = sorted(FACADES.rglob("*.py"))
    assert {f.relative_to(FACADES).as_posix() for f in files} >= {
        "cs231n.py",
        "npnn/modules.py",
        "npnn/model.py",
        "npnn/optimizer.py",
        "npnn/dataset.py",
    }
    return files


def _annotations(tree: ast.AST) -> set[ast.AST]:
    """Every node inside a type annotation (``X | None`` is not arithmetic)."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {n for root in roots for n in ast.walk(root)}


def _operations(path: Path, root: Path = FACADES) -> Iterator[tuple[str, str, str, str]]:
    """``(kind, function, expression, file)`` for every arithmetic operation and call in ``path``."""
    tree = ast.parse(path.read_text())
    skip = _annotations(tree)
    rel = path.relative_to(root).as_posix()

    def visit(node: ast.AST, function: str) -> Iterator[tuple[str, str, str, str]]:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if child in skip:
                continue
            if isinstance(child, ast.BinOp | ast.AugAssign):
                yield "arithmetic", name, ast.unparse(child), rel
            elif (
                isinstance(child, ast.UnaryOp)
                and isinstance(child.op, ast.USub)
                and not isinstance(child.operand, ast.Constant)
            ):
                yield "arithmetic", name, ast.unparse(child), rel
            elif isinstance(child, ast.Call):
                yield "call", name, ast.unparse(child.func), rel
            yield from visit(child, name)

    yield from visit(tree, "<module>")


def test_facades_contain_no_formula_of_their_own() -> None:
    found_arithmetic, offending = set(), []
    for path in _facade_files():
        for kind, function, expr, rel in _operations(path):
            if kind == "arithmetic":
                found_arithmetic.add((rel, function, expr))
                if (rel, function, expr) not in ALLOWED_ARITHMETIC:
                    offending.append(f"{rel}:{function}: arithmetic {expr!r}")
            elif expr.startswith(("np.", "numpy.")) and not expr.startswith(("np.random", "numpy.random")):
                if expr not in ALLOWED_NUMPY:
                    offending.append(f"{rel}:{function}: NumPy call {expr}")
            elif expr.startswith(("np.random", "numpy.random")):
                offending.append(f"{rel}:{function}: {expr} (draw from global_rng() so that one place owns it)")
            elif expr.rsplit(".", 1)[-1] in COMPUTING_NAMES and (rel, function, expr) not in ALLOWED_CALLS:
                offending.append(f"{rel}:{function}: computing call {expr}()")
    assert not offending, "formulas in the course facades (compute them with backproplab's modules):\n" + "\n".join(
        offending
    )
    # every allowance is still needed (a stale list would hide nothing, but would mislead readers)
    assert found_arithmetic == set(ALLOWED_ARITHMETIC)


def test_the_source_check_sees_a_formula(tmp_path: Path) -> None:
    """The check above can fail: every operation of a hand-written softmax is reported."""
    fake = tmp_path / "modules.py"
    fake.write_text(
        "import numpy as np\n"
        "def forward(z: np.ndarray | None):\n"
        "    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True) @ -z\n"
    )
    ops = {(kind, function, expr) for kind, function, expr, _ in _operations(fake, tmp_path)}
    assert ops == {
        ("call", "forward", "np.exp"),
        ("arithmetic", "forward", "z - z.max(axis=1, keepdims=True)"),
        ("call", "forward", "z.max"),
        ("call", "forward", "e.sum"),
        ("arithmetic", "forward", "e / e.sum(axis=1, keepdims=True) @ -z"),
        ("arithmetic", "forward", "e / e.sum(axis=1, keepdims=True)"),
        ("arithmetic", "forward", "-z"),
    }


# -- the library does the work ----------------------------------------------------------------------------------
def spy(monkeypatch: pytest.MonkeyPatch, targets: list[tuple[type, str]]) -> Counter[str]:
    """Count calls of each ``Class.method`` (the method still runs)."""
    counts: Counter[str] = Counter()
    for cls, method in targets:
        original = getattr(cls, method)

        def wrapper(
            *args: Any, _original: Any = original, _key: str = f"{cls.__name__}.{method}", **kwargs: Any
        ) -> Any:
            counts[_key] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(cls, method, wrapper)
    return counts


LIBRARY = [
    (nn.Dense, "forward"),
    (nn.Dense, "backward"),
    (nn.ReLU, "forward"),
    (nn.ReLU, "backward"),
    (nn.ELU, "forward"),
    (nn.ELU, "backward"),
    (nn.SoftmaxCrossEntropy, "forward"),
    (nn.SoftmaxCrossEntropy, "backward"),
    (nn.SoftmaxCrossEntropy, "link"),
    (nn.CrossEntropy, "forward"),
    (nn.L2, "penalty"),
    (nn.L2, "add_gradient"),
    (optim.SGD, "step"),
    (optim.Adam, "step"),
    (optim.Optimizer, "set_epoch"),
]


def test_two_layer_net_loss_and_training_run_through_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=0.1)
    X, y = np.random.randn(5, 4), np.array([0, 1, 2, 2, 1])
    counts = spy(monkeypatch, LIBRARY)
    net.loss(X)
    assert counts == {"Dense.forward": 2, "ReLU.forward": 1}
    counts.clear()
    net.loss(X, y, reg=0.05)
    assert counts == {
        "Dense.forward": 2,
        "ReLU.forward": 1,
        "SoftmaxCrossEntropy.forward": 1,
        "SoftmaxCrossEntropy.backward": 1,
        "Dense.backward": 2,
        "ReLU.backward": 1,
        "L2.add_gradient": 1,
        "L2.penalty": 1,
    }
    counts.clear()
    net.train(X, y, X, y, num_iters=3, batch_size=10)  # one iteration per epoch: 3 epochs
    assert counts["SGD.step"] == 3 and counts["Optimizer.set_epoch"] == 3
    assert counts["SoftmaxCrossEntropy.backward"] == 3 and counts["L2.add_gradient"] == 3
    assert counts["Dense.forward"] == 3 * 2 + 3 * 2 * 2  # training steps, then predict on batch and val set


@pytest.mark.parametrize("optimizer, step", [(npnn.SGD(0.1), "SGD.step"), (npnn.Adam(), "Adam.step")])
def test_npnn_training_runs_through_the_library(
    monkeypatch: pytest.MonkeyPatch, optimizer: npnn.Optimizer, step: str
) -> None:
    np.random.seed(0)
    model = npnn.Sequential(
        [npnn.Dense(6, 5), npnn.ELU(), npnn.Dense(5, 4), npnn.ELU(), npnn.Dense(4, 3)],
        npnn.SoftmaxCrossEntropy(),
        optimizer,
    )
    X, y = np.random.randn(8, 6), np.random.randint(0, 3, 8)
    counts = spy(monkeypatch, LIBRARY)
    model.train(npnn.Dataset(X, y, batch_size=4))  # two batches
    assert counts == {
        "Dense.forward": 6,
        "ELU.forward": 4,
        "SoftmaxCrossEntropy.link": 2,
        "SoftmaxCrossEntropy.forward": 2,
        "SoftmaxCrossEntropy.backward": 2,
        "ELU.backward": 4,
        "Dense.backward": 6,
        step: 2,
        "CrossEntropy.forward": 2,
    }
