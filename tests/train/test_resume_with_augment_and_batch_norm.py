"""Resume of the best presets' kind of run: BatchNorm (running statistics), dropout, shifted, flipped and mixed-up
batches, Nesterov SGD with warm-up + cosine, a fixed BLAS thread count. Stopped at a step boundary and resumed, it
ends bit-identical to a run that never stopped, on the NumPy engine and on the compiled `LayerTrainer`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backproplab as bp
from backproplab.data import Compose, Mixup, RandomShift
from backproplab.optim import WarmupCosine
from backproplab.train import interrupts
from backproplab.train.checkpoint import Checkpoint, CheckpointError, TrainingSnapshot
from stop_requests import stop_after
from timings import without_timings

EPOCHS = 3
ROWS, BATCH = 300, 16


def _augment(mixup: bool = True) -> Compose:
    steps: list[Any] = [RandomShift(1, (28, 28), flip=True, rng=11)]
    if mixup:
        steps.append(Mixup(0.2, 10, rng=12))
    return Compose(*steps)


def _fit(
    data: tuple[Any, Any], path: Path, engine: str, *, resume: bool = False, augment: Any = None, threads: Any = 1
) -> tuple[Any, Any, Any, Any]:
    train, test = data
    model = bp.nn.mlp([784, 32, 24, 10], "relu", batch_norm=True, dropout=0.2, seed=3)
    opt = bp.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4, schedule=WarmupCosine(EPOCHS, 1)
    )
    augment = _augment() if augment is None else augment
    history = bp.fit(
        model,
        bp.nn.SoftmaxCrossEntropy(),
        opt,
        train,
        epochs=EPOCHS,
        batch_size=BATCH,
        shuffle=True,
        seed=5,
        eval_sets={"test": test},
        verbose=0,
        engine=engine,
        augment=augment,
        threads=threads,
        callbacks=[Checkpoint(path)],
        resume=TrainingSnapshot.load(path) if resume else None,
    )
    return model, opt, augment, history


def _records(history: Any) -> list[dict[str, Any]]:
    return without_timings(history.records)


@pytest.fixture(scope="module")
def data(fashion_small: Any, fashion_test: Any) -> tuple[Any, Any]:
    return fashion_small.take(ROWS), fashion_test.take(200)


@pytest.mark.parametrize("engine", ["numpy", "fast"])
@pytest.mark.parametrize("where", ["mid-epoch", "epoch-boundary"])
def test_resume_with_augmentation_and_batch_norm_is_bit_identical(
    data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, where: str
) -> None:
    whole_model, whole_opt, whole_aug, whole = _fit(data, tmp_path / "whole.npz", engine)
    assert whole.engine == "fast" if engine == "fast" else whole.engine == "numpy"
    steps = -(-ROWS // BATCH)
    per_epoch_checks = steps if engine == "numpy" else -(-steps // max(1, steps // 100))
    checks = per_epoch_checks + (int(0.4 * per_epoch_checks) if where == "mid-epoch" else 1)
    path = tmp_path / "ck.npz"
    with monkeypatch.context() as m:
        stop_after(m, checks)
        with interrupts.stop_on_signals():
            _, _, _, stopped = _fit(data, path, engine)
    assert stopped.interrupted and len(stopped) == 1
    snapshot = TrainingSnapshot.load(path)
    assert (snapshot.position.step > 0) == (where == "mid-epoch") and snapshot.augment is not None
    assert any(k.endswith("running_mean") for k in snapshot.model)

    model, opt, aug, resumed = _fit(data, path, engine, resume=True)
    assert not resumed.interrupted and _records(resumed) == _records(whole)
    assert resumed.batch_losses == whole.batch_losses
    for (name, a), (_, b) in zip(whole_model.state_dict().items(), model.state_dict().items(), strict=True):
        assert np.array_equal(a, b), name  # weights, BatchNorm's gamma, beta and running statistics
    s0, s1 = whole_opt.state_dict(), opt.state_dict()
    for key in s0:
        assert np.array_equal(np.asarray(s0[key]), np.asarray(s1[key])), key
    # the augmentation's generators are where the uninterrupted run left them: the next batches are the same
    x = data[0].X[:8]
    assert np.array_equal(whole_aug(x, data[0].y[:8])[0], aug(x, data[0].y[:8])[0])


def test_resume_refuses_another_augmentation(data: Any, tmp_path: Path) -> None:
    path = tmp_path / "ck.npz"
    _fit(data, path, "numpy")
    with pytest.raises(
        CheckpointError,
        match=r"augment: checkpoint 'Compose\(RandomShift.*Mixup\(alpha=0.2\)\)', "
        r"now 'Compose\(RandomShift.*flip=True, fill=0.0\)\)'",
    ):
        _fit(data, path, "numpy", resume=True, augment=_augment(mixup=False))


def test_resume_with_auto_threads_keeps_the_checkpoints_count(data: Any, tmp_path: Path) -> None:
    path = tmp_path / "ck.npz"
    _, _, _, first = _fit(data, path, "numpy", threads=2)
    _, _, _, resumed = _fit(data, path, "numpy", resume=True, threads="auto")
    assert first.params["threads"] == resumed.params["threads"] == 2
