"""Turn a `RunConfig` into the objects `fit` needs: datasets, model, loss, optimizer, penalties, callbacks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...backend import resolve
from ...data import PCA, Compose, Dataset, Mixup, RandomShift, fit_pca, load_splits
from ...errors import ConfigError
from ...nn import L1, L2, Loss, Regularizer, Sequential, mlp
from ...nn.build import loss
from ...optim import SGD, Adam, InverseScaling, Optimizer, StepDecay, WarmupCosine
from ...optim.schedules import Schedule
from ...train import Callback, EarlyStopping
from ...train.metrics import metric_prefix
from ..config import AUGMENT_FILL, ModelConfig, OptimizerConfig, RunConfig
from .init_from import load_initial_weights


def build_datasets(config: RunConfig) -> dict[str, Dataset]:
    """``{"train", "test"}`` plus ``"validation"`` when ``data.validation_size`` > 0; limits applied; then, with
    ``data.pca_variance``, every split projected on the principal components of the training split used."""
    return build_data(config)[0]


def build_data(config: RunConfig) -> tuple[dict[str, Dataset], PCA | None]:
    """`build_datasets`, and the PCA the splits were projected with (None without ``data.pca_variance``)."""
    d = config.data
    splits = load_splits(
        d.dataset,
        scale=d.scale,
        root=d.root,
        validation_size=d.validation_size or None,
        seed=d.split_seed,
        dtype=np.dtype(config.model.dtype),
    )
    if d.limit_train:
        splits["train"] = splits["train"].take(d.limit_train)
    if d.limit_test:
        splits["test"] = splits["test"].take(d.limit_test)
    if d.pca_variance is None:
        return splits, None
    pca = fit_pca(splits["train"].X, d.pca_variance)
    # projected rows are no longer images: image_shape None keeps reports from drawing them as such
    return {
        k: replace(ds, X=pca(ds.X), image_shape=None, meta={**ds.meta, **pca.describe()}) for k, ds in splits.items()
    }, pca


def build_model(cfg: ModelConfig, num_inputs: int, num_classes: int) -> Sequential:
    options: dict[str, Any] = {}
    if cfg.activation == "elu":
        options["alpha"] = cfg.elu_alpha
    elif cfg.activation == "leaky_relu":
        options["slope"] = cfg.leaky_slope
    return mlp(
        [num_inputs, *cfg.hidden, num_classes],
        cfg.activation,
        activation_options=options,
        dropout=cfg.dropout,
        batch_norm=cfg.batch_norm,
        init=cfg.init,
        init_std=cfg.init_std if cfg.init == "normal" else None,
        seed=np.random.RandomState(cfg.seed) if cfg.rng == "legacy" else cfg.seed,
        dtype=np.dtype(cfg.dtype),
    )


def build_loss(config: RunConfig) -> Loss:
    return loss(config.loss.name)


def build_schedule(cfg: OptimizerConfig, epochs: int) -> Schedule | None:
    """The ``optimizer.schedule`` (`optim.SCHEDULES`) of a run of ``epochs`` epochs (the cosine needs them)."""
    if cfg.schedule == "step":
        return StepDecay(cfg.lr_decay, cfg.step_size)
    if cfg.schedule == "inverse":
        return InverseScaling(cfg.power)
    if cfg.schedule == "cosine":
        return WarmupCosine(epochs, cfg.warmup_epochs)
    return None


def training_epochs(config: RunConfig, train_size: int) -> int:
    """The passes over ``train_size`` rows the run makes (``training.epochs``, or enough for ``iterations``)."""
    t = config.training
    if t.epochs is not None:
        return t.epochs
    assert t.iterations is not None  # the config holds exactly one of the two
    return -(-t.iterations // -(-train_size // t.batch_size))


def build_optimizer(cfg: OptimizerConfig, model: Sequential, epochs: int) -> Optimizer:
    if cfg.name == "adam":
        return Adam(
            model.parameters(),
            lr=cfg.lr,
            beta1=cfg.beta1,
            beta2=cfg.beta2,
            eps=cfg.eps,
            schedule=build_schedule(cfg, epochs),
        )
    return SGD(
        model.parameters(),
        lr=cfg.lr,
        momentum=cfg.momentum,
        nesterov=cfg.nesterov,
        weight_decay=cfg.weight_decay,
        schedule=build_schedule(cfg, epochs),
    )


def build_augment(config: RunConfig, train: Dataset) -> Compose | None:
    """The training-batch augmentation of ``data.augment`` (None when off): `RandomShift` (shifts, flips), then
    `Mixup`. Their generators are children of ``training.seed`` (`numpy.random.SeedSequence.spawn`), independent
    of each other and of the shuffling stream."""
    a = config.data.augment
    if not a.enabled:
        return None
    shift_seed, mixup_seed = np.random.SeedSequence(config.training.seed).spawn(2)
    steps: list[RandomShift | Mixup] = []
    if a.shift or a.flip:
        if train.image_shape is None or int(np.prod(train.image_shape)) != train.num_features:
            raise ConfigError(
                f"data.augment shifts and flips images, but the training rows of {train.name!r} are "
                "not images here (e.g. after data.pca_variance); set data.augment.shift = 0 and "
                "flip = false"
            )
        steps.append(
            RandomShift(
                a.shift,
                train.image_shape,
                flip=a.flip,
                fill=AUGMENT_FILL[config.data.scale],
                rng=np.random.default_rng(shift_seed),
            )
        )
    if a.mixup:
        steps.append(Mixup(a.mixup, train.num_classes, rng=np.random.default_rng(mixup_seed)))
    return Compose(*steps)


def build_regularizers(config: RunConfig) -> list[Regularizer]:
    r = config.regularization
    regs: list[Regularizer] = []
    if r.l2:
        regs.append(L2(r.l2, half=r.l2_convention == "half"))
    if r.l1:
        regs.append(L1(r.l1))
    return regs


def build_callbacks(config: RunConfig) -> list[Callback]:
    es = config.training.early_stopping
    if es is None:
        return []
    return [EarlyStopping(es.monitor, es.patience, es.min_delta, es.restore_best_weights)]


def _check_labels_needed(config: RunConfig, datasets: dict[str, Dataset]) -> None:
    """A split without labels cannot be what early stopping watches."""
    unlabeled = {metric_prefix(k) for k, ds in datasets.items() if not ds.labeled}
    es = config.training.early_stopping
    if es is not None and es.monitor.split("_")[0] in unlabeled:
        raise ConfigError(
            f"training.early_stopping.monitor = {es.monitor!r}, but the {es.monitor.split('_')[0]} "
            "split has no labels (a test set given without labels can be predicted, not scored); "
            "monitor a labelled split, e.g. 'val_loss' with data.validation_size"
        )


@dataclass
class Experiment:
    """Everything one run trains with."""

    config: RunConfig
    datasets: dict[str, Dataset]
    model: Sequential
    loss: Loss
    optimizer: Optimizer
    regularizers: list[Regularizer]
    callbacks: list[Callback]
    pca: PCA | None = None  # with data.pca_variance: the projection every split went through
    augment: Compose | None = None  # with data.augment: what every training batch goes through

    @property
    def eval_sets(self) -> dict[str, Dataset]:
        """The sets of ``training.eval`` evaluated after every epoch (a split without labels cannot be)."""
        return {metric_prefix(s): self.datasets[s] for s in self.config.training.eval if self.datasets[s].labeled}

    @property
    def unlabeled(self) -> list[str]:
        """The splits given without labels (predicted, never scored)."""
        return [name for name, ds in self.datasets.items() if not ds.labeled]

    def __repr__(self) -> str:
        sets = ", ".join(f"{k} {len(v)}" for k, v in self.datasets.items())
        return f"Experiment({self.config.name!r}: {self.model!r}, {self.optimizer!r}; {sets})"


def build_experiment(config: RunConfig) -> Experiment:
    """Data, model (on ``model.backend`` / ``model.device``), loss, optimizer, penalties and callbacks. A backend
    or device that cannot be had fails first, before any data are loaded."""
    placement = resolve(config.model.backend, config.model.device)
    datasets, pca = build_data(config)
    train = datasets["train"]
    _check_labels_needed(config, datasets)
    model = build_model(config.model, train.num_features, train.num_classes)
    if config.model.init_from is not None:
        load_initial_weights(model, config.model.init_from)
    model.to(placement.backend, placement.device)
    return Experiment(
        config,
        datasets,
        model,
        build_loss(config),
        build_optimizer(config.optimizer, model, training_epochs(config, len(train))),
        build_regularizers(config),
        build_callbacks(config),
        pca,
        build_augment(config, train),
    )
