"""The training loss per iteration (`History.iterations` / `History.batch_losses`) and a run's length in iterations
(`fit(iterations=...)`): checked against an SGD loop written out in plain NumPy, on both engines, through
interrupts and resume."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backproplab as bp
from backproplab._xp import to_numpy
from backproplab.train import interrupts
from backproplab.train.callbacks import Position
from backproplab.train.checkpoint import Checkpoint, CheckpointError, TrainingSnapshot
from backproplab.train.iterations import AUTO_POINTS, resolve_every, training_length
from stop_requests import stop_after

N, BATCH, LR, SEED = 60, 7, 0.1, 5
STEPS = math.ceil(N / BATCH)  # 9 steps per epoch, the last batch of 4 rows


@pytest.fixture(scope="module")
def rows(fashion_small: Any) -> tuple[np.ndarray, np.ndarray]:
    return fashion_small.X[:N].astype(np.float64), fashion_small.y[:N]


def _model() -> Any:
    return bp.nn.mlp([784, 12, 10], "sigmoid", seed=1, dtype=np.float64)


def numpy_sgd(
    model: Any, X: np.ndarray, y: np.ndarray, iterations: int, batch: int, lr: float, shuffle_seed: int | None
) -> tuple[list[float], dict[str, np.ndarray]]:
    """Plain NumPy mini-batch SGD of a 784-12-10 sigmoid net with softmax cross-entropy, started from
    ``model``'s weights: the batch loss of every iteration (before its update) and the final weights. Epochs
    visit the rows in file order, or in permutations drawn from ``default_rng(shuffle_seed)`` as fit draws them."""
    w = {k: v.copy() for k, v in model.state_dict().items()}
    W1, b1, W2, b2 = w["0.weight"], w["0.bias"], w["2.weight"], w["2.bias"]
    rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
    losses: list[float] = []
    while len(losses) < iterations:
        order = rng.permutation(len(X)) if rng is not None else np.arange(len(X))
        for s in range(0, len(X), batch):
            if len(losses) == iterations:
                break
            idx = order[s : s + batch]
            xb, yb, m = X[idx], y[idx], len(idx)
            h = 1.0 / (1.0 + np.exp(-(xb @ W1 + b1)))
            z = h @ W2 + b2
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            losses.append(float(-logp[np.arange(m), yb].mean()))
            dz = np.exp(logp)
            dz[np.arange(m), yb] -= 1.0
            dz /= m
            dh = (dz @ W2.T) * h * (1.0 - h)
            gW2, gb2, gW1, gb1 = h.T @ dz, dz.sum(axis=0), xb.T @ dh, dh.sum(axis=0)
            W2 -= lr * gW2
            b2 -= lr * gb2
            W1 -= lr * gW1
            b1 -= lr * gb1
    return losses, w


def _fit(rows: tuple[np.ndarray, np.ndarray], engine: str, **kwargs: Any) -> tuple[Any, Any, Any]:
    model = _model()
    if engine == "torch":
        model.to("torch", device="cpu")
    opt = bp.optim.SGD(model.parameters(), lr=LR)
    settings = {"batch_size": BATCH, "shuffle": True, "seed": SEED, "verbose": 0, "engine": engine, **kwargs}
    history = bp.fit(model, bp.nn.SoftmaxCrossEntropy(), opt, rows, **settings)
    return model, opt, history


@pytest.mark.parametrize("engine", ["numpy", "fast", pytest.param("torch", marks=pytest.mark.needs_torch)])
@pytest.mark.parametrize("batch", [1, BATCH])
def test_batch_losses_are_those_of_a_plain_numpy_sgd_loop(rows: Any, engine: str, batch: int) -> None:
    model, _, history = _fit(rows, engine, epochs=2, batch_size=batch, loss_every=1)
    steps = math.ceil(N / batch)
    expected, weights = numpy_sgd(_model(), *rows, 2 * steps, batch, LR, SEED)
    assert history.params["loss_every"] == 1
    assert history.iterations == list(range(1, 2 * steps + 1))
    np.testing.assert_allclose(history.batch_losses, expected, rtol=1e-12, atol=0)
    assert [e["iteration"] for e in history.records] == [steps, 2 * steps]
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(to_numpy(value), weights[name], rtol=0, atol=1e-12, err_msg=name)
    # the per-epoch running average is the mean of that epoch's batch losses
    np.testing.assert_allclose(
        history.history["batch_loss"], [np.mean(expected[:steps]), np.mean(expected[steps:])], rtol=1e-12
    )


@pytest.mark.parametrize("engine", ["numpy", "fast"])
def test_every_k_iterations_records_the_mean_of_those_k_batch_losses(rows: Any, engine: str) -> None:
    """Windows of k = 4 run across epoch boundaries (9 steps per epoch); the 27 steps of three epochs end with
    a window of 3, recorded at the last iteration when training ends."""
    _, _, each = _fit(rows, engine, epochs=3, loss_every=1)
    _, _, every4 = _fit(rows, engine, epochs=3, loss_every=4)
    values = each.batch_losses
    assert len(values) == 3 * STEPS == 27
    assert every4.iterations == [4, 8, 12, 16, 20, 24, 27]
    expected = [sum(values[i : i + 4]) / len(values[i : i + 4]) for i in range(0, 27, 4)]
    assert every4.batch_losses == expected  # the same additions in the same order: bit for bit


def test_auto_records_every_iteration_up_to_ten_thousand() -> None:
    assert resolve_every("auto", 1) == 1 and resolve_every("auto", AUTO_POINTS) == 1
    assert resolve_every("auto", AUTO_POINTS + 1) == 2 and resolve_every("auto", 900_000) == 90
    assert resolve_every(7, 10) == 7
    for bad in (0, -3, 2.5, True, "every"):
        with pytest.raises(ValueError, match="loss_every: expected an integer >= 1 or 'auto'"):
            resolve_every(bad, 100)


@pytest.mark.parametrize("engine", ["numpy", "fast", "torch"])
@pytest.mark.parametrize("iterations", [1, 5, STEPS, 25])
def test_iterations_stop_exactly_where_asked(rows: Any, engine: str, iterations: int) -> None:
    model, opt, history = _fit(rows, engine, iterations=iterations, loss_every=1)
    expected, weights = numpy_sgd(_model(), *rows, iterations, BATCH, LR, SEED)
    assert opt.steps == iterations and history.iterations == list(range(1, iterations + 1))
    np.testing.assert_allclose(history.batch_losses, expected, rtol=1e-12, atol=0)
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(to_numpy(value), weights[name], rtol=0, atol=1e-12, err_msg=name)
    epochs = math.ceil(iterations / STEPS)
    assert len(history) == epochs == history.params["epochs"] and history.params["iterations"] == iterations
    assert [e["iteration"] for e in history.records] == [min(STEPS * e, iterations) for e in range(1, epochs + 1)]
    # the cut epoch is evaluated like the others, and its mean batch loss is over the steps it took
    last = (epochs - 1) * STEPS
    assert history.history["batch_loss"][-1] == pytest.approx(np.mean(expected[last:]), rel=1e-12)
    assert history.last["train_loss"] == pytest.approx(bp.evaluate(model, bp.nn.SoftmaxCrossEntropy(), *rows)["loss"])


def test_length_is_epochs_or_iterations_never_both(rows: Any) -> None:
    for kwargs in ({}, {"epochs": 2, "iterations": 5}):
        with pytest.raises(ValueError, match="exactly one of epochs .* and iterations"):
            _fit(rows, "numpy", **kwargs)
    with pytest.raises(ValueError, match="iterations must be >= 1; got 0"):
        _fit(rows, "numpy", iterations=0)
    assert training_length(None, 25, 9) == (3, 25) and training_length(2, None, 9) == (2, 18)


@pytest.mark.parametrize("engine", ["numpy", "fast"])
def test_a_diverging_run_records_the_loss_that_was_not_finite(rows: Any, engine: str) -> None:
    model = bp.nn.mlp([784, 12, 10], "sigmoid", seed=1, dtype=np.float64)
    opt = bp.optim.SGD(model.parameters(), lr=1e200)
    history = bp.fit(model, bp.nn.MSE(), opt, rows, epochs=3, batch_size=BATCH, verbose=0, engine=engine, loss_every=1)
    assert history.diverged and "became NaN or infinite at epoch 1, batch" in history.stop_reason
    last = history.last["iteration"]
    assert f"batch {last} " in history.stop_reason and opt.steps == last - 1  # no update after the bad batch
    assert history.iterations == list(range(1, last + 1)) and not math.isfinite(history.batch_losses[-1])
    assert all(math.isfinite(v) for v in history.batch_losses[:-1])


@pytest.mark.parametrize("engine", ["numpy", "fast"])
@pytest.mark.parametrize("by", ["epochs", "iterations"])
def test_resume_records_the_same_points_bit_for_bit(
    rows: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, by: str
) -> None:
    """Stopped in epoch 2 after its 4th step, inside an open window of k = 4, then resumed from the checkpoint:
    the same points, weights and epochs as a run that never stopped (3 epochs, or 2 and 4 steps of a third)."""
    batch = 1 if engine == "fast" else BATCH  # at batch 1 the fast engine checks for a stop before every step
    steps = math.ceil(N / batch)
    total = 3 * steps if by == "epochs" else 2 * steps + 4
    options = {"loss_every": 4, "batch_size": batch, by: 3 if by == "epochs" else total}
    whole_model, _, whole = _fit(rows, engine, callbacks=[Checkpoint(tmp_path / "whole.npz")], **options)
    path = tmp_path / "ck.npz"
    with monkeypatch.context() as m:
        stop_after(m, steps + 5)  # the check before step 5 of epoch 2
        with interrupts.stop_on_signals():
            _, _, stopped = _fit(rows, engine, callbacks=[Checkpoint(path)], **options)
    assert stopped.interrupted and len(stopped) == 1
    snapshot = TrainingSnapshot.load(path)
    assert snapshot.position.step == 4 and snapshot.position.window_steps == (steps + 4) % 4
    assert stopped.iterations == list(range(4, steps + 5, 4))  # up to the stop, the open window not recorded
    model, _, resumed = _fit(rows, engine, callbacks=[Checkpoint(path)], resume=snapshot, **options)
    assert resumed.iterations == whole.iterations and resumed.batch_losses == whole.batch_losses
    assert whole.iterations[-1] == whole.last["iteration"] == total
    assert [r["iteration"] for r in resumed.records] == [r["iteration"] for r in whole.records]
    for a, b in zip(whole_model.parameters(), model.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)


def test_a_checkpoint_from_before_the_loss_record_still_resumes(
    rows: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints written before `iterations` / `loss_every` existed lack them in their fit settings and their
    position: such a checkpoint resumes (its run's record then starts where it resumes), and a differing
    `loss_every` is still refused when the checkpoint has one."""
    path = tmp_path / "ck.npz"
    with monkeypatch.context() as m:
        stop_after(m, STEPS + 3)
        with interrupts.stop_on_signals():
            _fit(rows, "numpy", epochs=2, callbacks=[Checkpoint(path)])
    snapshot = TrainingSnapshot.load(path)
    with pytest.raises(CheckpointError, match="loss_every: checkpoint 1, now 2"):
        _fit(rows, "numpy", epochs=2, loss_every=2, callbacks=[Checkpoint(path)], resume=snapshot)
    for key in ("iterations", "loss_every"):
        del snapshot.history["params"][key]
    for key in ("iterations", "batch_losses"):
        del snapshot.history[key]
    snapshot.position = Position(**{k: v for k, v in vars(snapshot.position).items() if not k.startswith("window")})
    snapshot.save(path)
    _, _, resumed = _fit(rows, "numpy", epochs=2, callbacks=[Checkpoint(path)], resume=TrainingSnapshot.load(path))
    assert len(resumed) == 2 and resumed.iterations == list(range(STEPS + 3, 2 * STEPS + 1))
