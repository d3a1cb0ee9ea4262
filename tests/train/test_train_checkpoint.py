"""Checkpoints and resume in `fit`: a run stopped at any step boundary and resumed ends bit-identical to one that
never stopped (weights, optimizer state, History), on both engines, with and without shuffling and dropout."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backproplab as bp
from backproplab.train import EarlyStopping, LambdaCallback, interrupts
from backproplab.train.checkpoint import Checkpoint, CheckpointError, TrainingSnapshot
from stop_requests import stop_after
from timings import without_timings

EPOCHS = 3


def _setup(dropout: float, optimizer: str, dtype: Any = np.float32) -> tuple[Any, Any]:
    model = bp.nn.mlp([784, 24, 10], "sigmoid", seed=1, dropout=dropout, dtype=dtype)
    if optimizer == "adam":
        opt = bp.optim.Adam(model.parameters(), lr=2e-3)
    else:
        opt = bp.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return model, opt


def _fit(
    data: tuple[Any, Any],
    path: Path,
    *,
    engine: str,
    shuffle: bool,
    dropout: float,
    optimizer: str,
    batch_size: int,
    resume: bool = False,
    early: bool = False,
    checkpoint: type = Checkpoint,
    **kwargs: Any,
) -> tuple[Any, Any, Any]:
    train, test = data
    model, opt = _setup(dropout, optimizer)
    callbacks: list[Any] = [checkpoint(path)]
    if early:  # listed before the checkpoint on purpose: fit runs the checkpoint last
        callbacks.insert(0, EarlyStopping("test_loss", patience=EPOCHS, restore_best_weights=True))
    history = bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=EPOCHS,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=7,
        eval_sets={"test": test},
        verbose=0,
        engine=engine,
        callbacks=callbacks,
        resume=TrainingSnapshot.load(path) if resume else None,
        **kwargs,
    )
    return model, opt, history


def _records(history: Any) -> list[dict[str, Any]]:
    """History records without wall-clock timings (the only entries that differ between two runs)."""
    return without_timings(history.records)


@pytest.fixture(scope="module")
def data(fashion_small: Any, fashion_test: Any) -> tuple[Any, Any]:
    return fashion_small.take(300), fashion_test.take(200)


CASES = [  # engine, shuffle, dropout, optimizer, batch size
    ("numpy", True, 0.3, "sgd", 16),
    ("numpy", False, 0.0, "adam", 8),
    ("numpy", True, 0.0, "sgd", 1),
    ("fast", True, 0.0, "sgd", 1),
    ("fast", False, 0.0, "sgd", 1),
    ("fast", True, 0.0, "sgd", 4),
]


@pytest.mark.parametrize(("engine", "shuffle", "dropout", "optimizer", "batch_size"), CASES)
@pytest.mark.parametrize("where", ["mid-epoch", "epoch-boundary"])
def test_resume_is_bit_identical(
    data: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    shuffle: bool,
    dropout: float,
    optimizer: str,
    batch_size: int,
    where: str,
) -> None:
    options = {
        "engine": engine,
        "shuffle": shuffle,
        "dropout": dropout,
        "optimizer": optimizer,
        "batch_size": batch_size,
        "early": True,
    }
    whole_model, whole_opt, whole = _fit(data, tmp_path / "whole.npz", **options)

    steps = -(-300 // batch_size)
    per_epoch_checks = steps if engine == "numpy" else -(-steps // max(1, steps // 100))
    # mid-epoch: 40% into epoch 2; boundary: the first check of epoch 2 (before its first step)
    checks = per_epoch_checks + (int(0.4 * per_epoch_checks) if where == "mid-epoch" else 1)
    path = tmp_path / "ck.npz"
    with monkeypatch.context() as m:
        stop_after(m, checks)
        with interrupts.stop_on_signals():
            _, _, stopped = _fit(data, path, **options)
    assert stopped.interrupted and len(stopped) == 1
    snapshot = TrainingSnapshot.load(path)
    assert snapshot.epoch == 2 and (snapshot.position.step > 0) == (where == "mid-epoch")
    assert snapshot.engine == engine

    model, opt, resumed = _fit(data, path, resume=True, **options)
    assert resumed.engine == engine and not resumed.interrupted and len(resumed) == EPOCHS
    assert _records(resumed) == _records(whole)
    for a, b in zip(whole_model.parameters(), model.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)
    s0, s1 = whole_opt.state_dict(), opt.state_dict()
    assert s0.keys() == s1.keys()
    for key in s0:
        assert np.array_equal(np.asarray(s0[key]), np.asarray(s1[key])), key


def test_every_epoch_checkpoint_resumes_a_run_killed_after_it(data: Any, tmp_path: Path) -> None:
    """The snapshot written after epoch 1 of an uninterrupted run (as a killed process would leave it) resumes
    to the same end."""
    options = {"engine": "numpy", "shuffle": True, "dropout": 0.2, "optimizer": "adam", "batch_size": 32}
    saved: list[bytes] = []
    path = tmp_path / "ck.npz"

    class Copy(Checkpoint):
        def write(self, state: Any) -> Path:
            out = super().write(state)
            saved.append(out.read_bytes())
            return out

    train, test = data
    model, opt = _setup(0.2, "adam")
    whole = bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=EPOCHS,
        batch_size=32,
        shuffle=True,
        seed=7,
        eval_sets={"test": test},
        verbose=0,
        engine="numpy",
        callbacks=[Copy(path)],
    )
    assert len(saved) == EPOCHS
    path.write_bytes(saved[0])  # the state after epoch 1
    resumed_model, _, resumed = _fit(data, path, resume=True, checkpoint=Copy, **options)
    assert _records(resumed) == _records(whole)
    for a, b in zip(model.parameters(), resumed_model.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)
    path.write_bytes(saved[-1])  # after the last epoch: nothing left to train, same History
    _, _, done = _fit(data, path, resume=True, checkpoint=Copy, **options)
    assert _records(done) == _records(whole)


def test_checkpoint_frequency(data: Any, tmp_path: Path) -> None:
    train, test = data
    written: list[int] = []

    class Spy(Checkpoint):
        def write(self, state: Any) -> Path:
            written.append(len(state.history))
            return super().write(state)

    model, opt = _setup(0.0, "sgd")
    bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=4,
        batch_size=32,
        verbose=0,
        callbacks=[Spy(tmp_path / "a.npz", every_epochs=2)],
    )
    assert written == [2, 4]
    written.clear()
    bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=2,
        batch_size=32,
        verbose=0,
        callbacks=[Spy(tmp_path / "b.npz", min_seconds=1e9)],
    )
    assert written == [] and not (tmp_path / "b.npz").exists()
    with pytest.raises(ValueError, match=r"every_epochs must be >= 0 \(0: only when stopped\); got -1"):
        Checkpoint(tmp_path / "c.npz", every_epochs=-1)


def test_a_real_sigint_stops_fit_at_a_step_boundary_and_returns_the_history(data: Any, tmp_path: Path) -> None:
    train, _ = data
    model, opt = _setup(0.0, "sgd")

    def ctrl_c(state: Any, epoch: int, logs: Any) -> None:
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    history = bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=5,
        batch_size=32,
        verbose=0,
        engine="numpy",
        callbacks=[LambdaCallback(on_epoch_end=ctrl_c), Checkpoint(tmp_path / "c.npz")],
    )
    assert history.interrupted and len(history) == 2 and not history.diverged
    assert history.to_dict()["interrupted"] is True
    snapshot = TrainingSnapshot.load(tmp_path / "c.npz")
    assert (snapshot.epoch, snapshot.position.step, snapshot.completed_epochs) == (3, 0, 2)
    assert interrupts.requested() is None  # the request ends with fit (the outermost guard)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_raises_keyboard_interrupt(data: Any) -> None:
    train, _ = data
    model, opt = _setup(0.0, "sgd")

    def ctrl_c_twice(state: Any, epoch: int, logs: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        bp.fit(
            model,
            bp.nn.SoftmaxCrossEntropy(),
            opt,
            train,
            epochs=3,
            batch_size=32,
            verbose=0,
            callbacks=[LambdaCallback(on_epoch_end=ctrl_c_twice)],
        )
    assert interrupts.requested() is None


def test_resume_refuses_a_checkpoint_of_another_run(data: Any, tmp_path: Path) -> None:
    options = {"engine": "numpy", "shuffle": True, "dropout": 0.0, "optimizer": "sgd"}
    _fit(data, tmp_path / "ck.npz", batch_size=16, **options)
    with pytest.raises(CheckpointError, match=r"batch_size: checkpoint 16, now 32"):
        _fit(data, tmp_path / "ck.npz", batch_size=32, resume=True, **options)
    with pytest.raises(CheckpointError, match=r"engine: checkpoint 'numpy', now 'fast'"):
        _fit(data, tmp_path / "ck.npz", batch_size=16, resume=True, **{**options, "engine": "fast"})


@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing"])
def test_a_damaged_checkpoint_is_a_checkpoint_error_naming_the_file(data: Any, tmp_path: Path, damage: str) -> None:
    path = tmp_path / "ck.npz"
    _fit(data, path, engine="numpy", shuffle=False, dropout=0.0, optimizer="sgd", batch_size=64)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint")
    else:
        path.unlink()
    with pytest.raises(CheckpointError, match=str(path)):
        TrainingSnapshot.load(path)
