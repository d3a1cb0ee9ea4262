"""The three contenders of the time-to-accuracy benchmark, each training a best preset's recipe its own way.

Every peer gets the same data (the preset's dataset scaled to [0, 1], float32, already in memory), trains with
the preset's architecture, optimizer, schedule, batch size, augmentation and epochs as far as the library
allows, evaluates the test set after every epoch, and reports the wall time from the start of training to the
end of each epoch's evaluation. A peer stops at the first epoch whose test accuracy reaches the target (or
after the last epoch when ``stop_at_target`` is False).

- backproplab: `backproplab.fit` on the objects `experiments.run.build` makes from the preset (what `backproplab run`
  trains), with an epoch-end callback for the clock.
- PyTorch: ``nn.Linear(bias=False)``, ``nn.BatchNorm1d``, ``nn.ReLU``, ``nn.Dropout``, ``nn.CrossEntropyLoss``,
  ``torch.optim.SGD`` (weight decay on the weight matrices only, as backproplab) and a per-epoch ``LambdaLR``
  with the same warm-up and cosine, written the usual way (``zero_grad``, ``loss.backward()``, ``step``); the
  default initialisation; batches sliced from tensors that share memory with the data; the augmented batches
  come from the same `RandomShift` and `Mixup` as backproplab's (on the NumPy batch; mixup's probability rows
  are ``CrossEntropyLoss``'s soft targets), so augmentation costs both the same.
- scikit-learn: ``MLPClassifier`` has no batch normalisation and no dropout, so its closest configuration is the
  same widths, ReLU, its default Adam (learning rate 1e-3, which trains this depth without normalisation; its
  SGD at the preset's rate does not), L2 ``alpha`` 1e-4 (its default), the same batch size and epochs, the same
  warm-up and cosine applied to Adam's rate, one ``partial_fit`` per epoch over the whole training set, shuffled,
  with the preset's shifts and flips (not mixup: ``partial_fit`` takes class labels only).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Recipe:
    """What the peers share, read from a preset's run config."""

    name: str
    dataset: str
    hidden: tuple[int, ...]
    dropout: float
    batch_norm: bool
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    warmup: int
    epochs: int
    batch_size: int
    shift: int
    flip: bool
    mixup: float
    target: float

    @classmethod
    def from_config(cls, config: Any, target: float) -> Recipe:
        m, o, t, a = config.model, config.optimizer, config.training, config.data.augment
        if o.name != "sgd" or o.schedule != "cosine" or m.activation != "relu":
            raise ValueError(
                f"{config.name}: the time-to-accuracy peers implement ReLU nets trained by SGD with the "
                f"cosine schedule; got {m.activation}, {o.name}, schedule {o.schedule}"
            )
        return cls(
            config.name,
            config.data.dataset,
            tuple(m.hidden),
            m.dropout,
            m.batch_norm,
            o.lr,
            o.momentum,
            o.nesterov,
            o.weight_decay,
            o.warmup_epochs,
            t.epochs,
            t.batch_size,
            a.shift,
            a.flip,
            a.mixup,
            target,
        )

    def lr_factor(self, epoch: int) -> float:
        """The warm-up + cosine multiplier of 0-based ``epoch`` (`backproplab.optim.WarmupCosine`'s formula)."""
        from backproplab.optim import WarmupCosine

        return WarmupCosine(self.epochs, self.warmup)(1.0, epoch)


class Clock:
    """Records (epoch, seconds since start, test accuracy) and whether the target has been reached."""

    def __init__(self, target: float) -> None:
        self.target = target
        self.started = time.perf_counter()
        self.epochs: list[dict[str, float]] = []

    def tick(self, epoch: int, test_acc: float) -> bool:
        """Record an evaluated epoch; True once the target is reached."""
        self.epochs.append({"epoch": epoch, "seconds": time.perf_counter() - self.started, "test_acc": test_acc})
        return test_acc >= self.target

    def result(self) -> dict[str, Any]:
        reached = next((e for e in self.epochs if e["test_acc"] >= self.target), None)
        best = max(self.epochs, key=lambda e: e["test_acc"])
        return {
            "epochs": self.epochs,
            "reached": reached is not None,
            "time_to_target": reached["seconds"] if reached else None,
            "epoch_at_target": reached["epoch"] if reached else None,
            "best_acc": best["test_acc"],
            "best_epoch": best["epoch"],
            "best_seconds": best["seconds"],
            "seconds": self.epochs[-1]["seconds"],
            "seconds_per_epoch": self.epochs[-1]["seconds"] / len(self.epochs),
        }


def _augment(recipe: Recipe, seed: int, mixup: bool = True) -> Any:
    """The recipe's batch augmentation as backproplab's objects (shifts and flips; mixup unless told not to)."""
    from backproplab.data import Compose, Mixup, RandomShift

    steps: list[Any] = []
    if recipe.shift or recipe.flip:
        steps.append(RandomShift(recipe.shift, (28, 28), flip=recipe.flip, rng=np.random.default_rng([seed, 1])))
    if recipe.mixup and mixup:
        steps.append(Mixup(recipe.mixup, 10, rng=np.random.default_rng([seed, 2])))
    return Compose(*steps) if steps else None


def train_backproplab(
    config: Any, recipe: Recipe, train: Any, test: Any, seed: int, threads: int, stop_at_target: bool = True
) -> dict[str, Any]:
    from backproplab.experiments.config import with_overrides
    from backproplab.experiments.run.build import build_augment, build_loss, build_model, build_optimizer
    from backproplab.train import Callback, fit

    config = with_overrides(config, {"model": {"seed": seed}, "training": {"seed": seed}})
    model = build_model(config.model, train.num_features, train.num_classes)
    optimizer = build_optimizer(config.optimizer, model, config.training.epochs)
    augment = build_augment(config, train)

    class Timer(Callback):
        def on_epoch_end(self, state: Any, epoch: int, logs: dict[str, Any]) -> None:
            if clock.tick(epoch, logs["test_acc"]) and stop_at_target:
                state.stop_training = True

    clock = Clock(recipe.target)
    history = fit(
        model,
        build_loss(config),
        optimizer,
        train,
        epochs=config.training.epochs,
        batch_size=config.training.batch_size,
        shuffle=True,
        seed=seed,
        eval_sets={"test": test},
        eval_train=False,
        verbose=0,
        augment=augment,
        threads=threads,
        callbacks=[Timer()],
    )
    return {**clock.result(), "engine": history.engine}


def train_torch(
    recipe: Recipe, train: Any, test: Any, seed: int, threads: int, stop_at_target: bool = True
) -> dict[str, Any]:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    width = train.X.shape[1]
    for h in recipe.hidden:
        layers.append(nn.Linear(width, h, bias=not recipe.batch_norm))
        if recipe.batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU())
        if recipe.dropout:
            layers.append(nn.Dropout(recipe.dropout))
        width = h
    layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    weights = [p for p in model.parameters() if p.ndim == 2]
    others = [p for p in model.parameters() if p.ndim != 2]
    optimizer = torch.optim.SGD(
        [{"params": weights, "weight_decay": recipe.weight_decay}, {"params": others, "weight_decay": 0.0}],
        lr=recipe.lr,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, recipe.lr_factor)
    loss_fn = nn.CrossEntropyLoss()
    X, y = torch.from_numpy(train.X), torch.from_numpy(train.y)
    Xt, yt = torch.from_numpy(test.X), torch.from_numpy(test.y)
    augment = _augment(recipe, seed)
    generator = torch.Generator().manual_seed(seed)
    clock = Clock(recipe.target)
    n, b = len(X), recipe.batch_size
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=generator)
        for s in range(0, n, b):
            idx = order[s : s + b]
            xb, yb = X[idx], y[idx]
            if augment is not None:  # mixup gives probability rows, which CrossEntropyLoss takes as targets
                xa, ya = augment(xb.numpy(), yb.numpy())
                xb, yb = torch.from_numpy(np.ascontiguousarray(xa)), torch.from_numpy(np.ascontiguousarray(ya))
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        schedule.step()
        model.eval()
        with torch.no_grad():
            acc = float((model(Xt).argmax(dim=1) == yt).float().mean())
        if clock.tick(epoch, acc) and stop_at_target:
            break
    return clock.result()


def train_sklearn(
    recipe: Recipe, train: Any, test: Any, seed: int, threads: int, stop_at_target: bool = True
) -> dict[str, Any]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    lr = 1e-3
    clf = MLPClassifier(
        hidden_layer_sizes=recipe.hidden,
        activation="relu",
        solver="adam",
        learning_rate_init=lr,
        alpha=1e-4,
        batch_size=recipe.batch_size,
        shuffle=True,
        random_state=seed,
        max_iter=1,
    )
    augment = _augment(recipe, seed, mixup=False)  # MLPClassifier takes class labels only: no mixup
    classes = np.arange(10)
    clock = Clock(recipe.target)
    for epoch in range(1, recipe.epochs + 1):
        if epoch == 1:
            clf.learning_rate_init = lr * recipe.lr_factor(0)
        else:  # partial_fit keeps its Adam state; its step size is read from here at every step
            clf._optimizer.learning_rate_init = lr * recipe.lr_factor(epoch - 1)
        X = train.X if augment is None else augment(train.X, train.y)[0].copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(X, train.y, classes=classes)
        acc = float((clf.predict(test.X) == test.y).mean())
        if clock.tick(epoch, acc) and stop_at_target:
            break
    return clock.result()


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
