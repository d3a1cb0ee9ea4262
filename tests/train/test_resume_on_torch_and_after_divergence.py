"""Resume where the backend and divergence handling meet: a torch model resumes bit-identically, and a run that
diverges in the epoch it was stopped in gets back the same weights (that epoch's starting ones) as one that never
stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backproplab as bp
from backproplab._xp import to_numpy
from backproplab.train import EarlyStopping, LambdaCallback, TerminateOnDivergence, interrupts
from backproplab.train.checkpoint import Checkpoint, TrainingSnapshot
from stop_requests import stop_after
from timings import without_timings

EPOCHS = 3
BATCH = 20


@pytest.fixture(scope="module")
def data(fashion_small: Any, fashion_test: Any) -> tuple[Any, Any]:
    return fashion_small.take(300), fashion_test.take(200)


def _records(history: Any) -> list[dict[str, Any]]:
    return without_timings(history.records)


def _torch_fit(data: tuple[Any, Any], path: Path, resume: bool = False) -> tuple[Any, Any, Any]:
    train, test = data
    model = bp.nn.mlp([784, 24, 10], "sigmoid", seed=1, dropout=0.3).to("torch", device="cpu")
    opt = bp.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    callbacks = [EarlyStopping("test_loss", patience=EPOCHS, restore_best_weights=True), Checkpoint(path)]
    history = bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=EPOCHS,
        batch_size=BATCH,
        seed=7,
        eval_sets={"test": test},
        verbose=0,
        callbacks=callbacks,
        resume=TrainingSnapshot.load(path) if resume else None,
    )
    return model, opt, history


@pytest.mark.needs_torch
def test_a_torch_model_resumes_mid_epoch_bit_identically(
    data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_model, whole_opt, whole = _torch_fit(data, tmp_path / "whole.npz")
    assert whole.engine == "torch"
    steps = 300 // BATCH
    with monkeypatch.context() as m:
        stop_after(m, steps + 6)  # 5 steps into epoch 2
        with interrupts.stop_on_signals():
            _, _, stopped = _torch_fit(data, tmp_path / "ck.npz")
    assert stopped.interrupted and len(stopped) == 1
    snapshot = TrainingSnapshot.load(tmp_path / "ck.npz")
    assert (snapshot.epoch, snapshot.position.step) == (2, 5)

    model, opt, resumed = _torch_fit(data, tmp_path / "ck.npz", resume=True)
    assert model.backend == "torch" and resumed.engine == "torch"
    assert _records(resumed) == _records(whole)
    for a, b in zip(whole_model.parameters(), model.parameters(), strict=True):
        assert np.array_equal(to_numpy(a.value), to_numpy(b.value))
    s0, s1 = whole_opt.state_dict(), opt.state_dict()
    for key in s0:
        assert np.array_equal(np.asarray(s0[key]), np.asarray(s1[key])), key


def _diverging_fit(data: tuple[Any, Any], path: Path, resume: bool = False) -> tuple[Any, Any]:
    """Epoch 1 trains normally; epoch 2 uses a learning rate that blows the loss up."""
    train, test = data
    model = bp.nn.mlp([784, 24, 10], "relu", seed=3)
    opt = bp.optim.SGD(model.parameters(), lr=0.05)

    def blow_up(state: Any, epoch: int) -> None:
        if epoch == 2:
            state.optimizer.lr = 1e4

    callbacks = [LambdaCallback(on_epoch_begin=blow_up), TerminateOnDivergence(), Checkpoint(path)]
    history = bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=EPOCHS,
        batch_size=BATCH,
        seed=7,
        eval_sets={"test": test},
        verbose=0,
        engine="numpy",
        callbacks=callbacks,
        resume=TrainingSnapshot.load(path) if resume else None,
    )
    return model, history


def test_divergence_in_a_resumed_epoch_restores_that_epochs_starting_weights(
    data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_model, whole = _diverging_fit(data, tmp_path / "whole.npz")
    assert whole.diverged and len(whole) == 2
    with monkeypatch.context() as m:
        stop_after(m, 300 // BATCH + 2)  # one step into epoch 2, before the loss has blown up
        with interrupts.stop_on_signals():
            _, stopped = _diverging_fit(data, tmp_path / "ck.npz")
    assert stopped.interrupted and not stopped.diverged
    assert TrainingSnapshot.load(tmp_path / "ck.npz").position.step == 1

    model, resumed = _diverging_fit(data, tmp_path / "ck.npz", resume=True)
    assert resumed.diverged and resumed.stop_reason == whole.stop_reason
    assert _records(resumed) == _records(whole)
    for a, b in zip(whole_model.parameters(), model.parameters(), strict=True):
        assert np.isfinite(b.value).all()
        assert np.array_equal(a.value, b.value)  # epoch 2's starting weights, carried by the checkpoint
