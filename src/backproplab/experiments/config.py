"""Run configuration: a validated, fully resolved description of one training run (TOML on disk).

Every key has a default, so a config file only states what differs. Errors name the key, the allowed values
and what was given, e.g. ``optimizer.name: expected 'sgd' or 'adam'; got 'adamw'; did you mean 'adam'?``.
The names a key accepts come from the registry of its concept (`backproplab.data.DATASETS`,
`backproplab.nn.ACTIVATIONS`, ...), which the command line reads too (`choices`).
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .._text import did_you_mean, read_utf8
from ..backend import BACKENDS, DEVICES_TEXT, DTYPES
from ..data.registry import DATASETS
from ..data.scaling import SCALES
from ..errors import ConfigError
from ..nn.build import ACTIVATIONS, LOSSES
from ..nn.init import INITIALIZERS
from ..optim import OPTIMIZERS, SCHEDULES
from ..train.engine import ENGINES
from ..train.metrics import metric_prefix


def one_of(names: Any) -> Any:
    """The ``Literal`` type of a registry's names (a tuple, or a dict's keys): the schema accepts what the
    registry holds, and nothing else."""
    return Literal[tuple(names)]


# The value of a blank (black) pixel after each scaling, which shifted images are filled with.
AUGMENT_FILL = {"unit": 0.0, "centered": -0.5, "none": 0.0}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# The largest seed both weight streams accept: numpy.random.default_rng and the legacy RandomState.
SEED_MAX = 2**32 - 1
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]


class AugmentConfig(_Section):
    """Random changes to every training batch (never to evaluation data); all off by default."""

    shift: int = Field(
        0,
        ge=0,
        le=8,
        description="move each image by up to this many pixels in each direction, "
        "drawn per image (RandomShift); 0: no shift",
    )
    flip: bool = Field(False, description="mirror each image left-right with probability 1/2")
    mixup: float = Field(
        0.0,
        ge=0,
        description="blend each batch with a shuffled copy of itself, lam ~ Beta(mixup, "
        "mixup), targets alike (Mixup); 0: off",
    )

    @property
    def enabled(self) -> bool:
        return self.shift > 0 or self.flip or self.mixup > 0


class DataConfig(_Section):
    dataset: one_of(DATASETS) = "fashion-mnist"
    root: str | None = Field(None, description="directory (or file) holding the data; default: standard place")
    scale: one_of(SCALES) = "unit"
    validation_size: int = Field(0, ge=0, description="training rows held out as validation (0: none)")
    split_seed: Seed = 0
    limit_train: int = Field(0, ge=0, description="use only the first N training rows (0: all)")
    limit_test: int = Field(0, ge=0, description="use only the first N test rows (0: all)")
    pca_variance: float | None = Field(
        None,
        gt=0,
        le=1,
        description="project every split on the principal components of the (scaled, limited) "
        "training split that keep this fraction of its variance, e.g. 0.95; unset: no PCA",
    )
    # the ignore: pydantic's Field stub types default_factory without the plugin (as for RunConfig's sections)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)  # type: ignore[arg-type]


class ModelConfig(_Section):
    hidden: list[int] = Field(default_factory=lambda: [256])
    activation: one_of(ACTIVATIONS) = "sigmoid"
    elu_alpha: float = Field(1.0, gt=0)
    leaky_slope: float = Field(0.01, ge=0)
    dropout: float = Field(0.0, ge=0, lt=1, description="drop probability after each hidden activation")
    batch_norm: bool = Field(False, description="BatchNorm after each hidden Dense layer (which then has no bias)")
    init: one_of(INITIALIZERS) = "glorot_uniform"
    init_std: float = Field(0.01, gt=0, description="std of init='normal'")
    seed: Seed = 0
    rng: Literal["pcg64", "legacy"] = Field(
        "pcg64",
        description="weight stream: pcg64 = numpy.random.default_rng(seed); legacy = RandomState(seed), "
        "as a course notebook's np.random.seed(seed) (reproduces the cs231n toy weights exactly)",
    )
    dtype: one_of(DTYPES) = "float32"
    backend: one_of(BACKENDS) = Field(
        "numpy", description="the arrays the modules compute with: numpy, or torch tensors (the torch extra)"
    )
    device: str = Field(
        "auto",
        description="torch backend: 'cpu', 'cuda', 'cuda:N', or 'auto' (CUDA when torch "
        "sees a GPU, else the CPU); the numpy backend runs on the CPU",
    )
    init_from: str | None = Field(
        None,
        description="start from saved weights: a model.npz file, a run or sweep directory, or a preset "
        "name (its latest finished run under the runs directory, run first if there is none); "
        "'none' or '': the init above",
    )

    @field_validator("init_from")
    @classmethod
    def _none_means_unset(cls, value: str | None) -> str | None:
        # a sweep axis cannot hold TOML's missing null, so "none" stands for "no initial weights"
        return None if value is None or value.strip().lower() in ("", "none") else value

    @model_validator(mode="after")
    def _positive_widths(self) -> ModelConfig:
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"model.hidden: every width must be >= 1; got {self.hidden}")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", self.device):
            raise ValueError(f"model.device: expected {DEVICES_TEXT}; got {self.device!r}")
        if self.backend == "numpy" and self.device.startswith("cuda"):
            raise ValueError(
                f"model.device = {self.device!r} needs model.backend = 'torch' (NumPy computes on the CPU)"
            )
        return self


class LossConfig(_Section):
    name: one_of(LOSSES) = "softmax_cross_entropy"


class OptimizerConfig(_Section):
    name: one_of(OPTIMIZERS) = "sgd"
    lr: float = Field(0.01, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0)
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0)
    schedule: one_of(SCHEDULES) = "none"  # type: ignore[valid-type]  # a Literal built from the registry
    lr_decay: float = Field(1.0, gt=0, le=1, description="step schedule: lr *= lr_decay every step_size epochs")
    step_size: int = Field(1, ge=1)
    power: float = Field(0.5, ge=0, description="inverse schedule: lr = lr0 / (1 + epoch) ** power")
    warmup_epochs: int = Field(0, ge=0, description="cosine schedule: epochs of linear warm-up before the decay")

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> OptimizerConfig:
        if self.nesterov and self.momentum == 0:
            raise ValueError("optimizer.nesterov = true needs optimizer.momentum > 0")
        return self


class RegularizationConfig(_Section):
    l2: float = Field(0.0, ge=0, description="L2 strength lambda (weights only)")
    l2_convention: Literal["squared", "half"] = Field(
        "squared", description="squared: lambda*||W||^2 (grad 2 lambda W); half: 0.5*lambda*||W||^2"
    )
    l1: float = Field(0.0, ge=0, description="L1 strength (weights only)")


class EarlyStoppingConfig(_Section):
    monitor: str = "val_loss"
    patience: int = Field(5, ge=0)
    min_delta: float = Field(0.0, ge=0)
    restore_best_weights: bool = True


class CheckConfig(_Section):
    """Checks of the initial model before training (results in the run's ``check.json``).

    ``gradient``: numerical gradient check (float64) of loss + weight penalty w.r.t. every parameter on the first
    ``samples`` training rows; passes when the max relative error is < ``tolerance``.
    ``reference = "two_layer"``: scores, loss and gradients of a Dense-ReLU-Dense net compared with the plain
    NumPy computation in `backproplab.check.reference` (the cs231n toy check).
    """

    gradient: bool = False
    reference: Literal["none", "two_layer"] = "none"
    samples: int = Field(5, ge=1)
    tolerance: float = Field(1e-8, gt=0)
    eps: float = Field(1e-5, gt=0, description="finite-difference step (cs231n uses 1e-5)")

    @property
    def enabled(self) -> bool:
        return self.gradient or self.reference != "none"


DEFAULT_EPOCHS = 15


class TrainingConfig(_Section):
    epochs: int | None = Field(
        None,
        ge=1,
        description=f"passes over the training set (default {DEFAULT_EPOCHS}); or give training.iterations instead",
    )
    iterations: int | None = Field(
        None,
        ge=1,
        description="optimizer steps (batches) instead of epochs: "
        "ceil(iterations / steps per epoch) epochs, the last one cut short",
    )
    loss_every: int | Literal["auto"] = Field(
        "auto",
        description="record the training loss every N iterations (the mean of those N batch losses) in "
        "History.batch_losses; auto: every iteration in runs of up to 10,000 iterations, else about 10,000 points",
    )
    batch_size: int = Field(1, ge=1)
    shuffle: bool = False
    seed: Seed = 0
    eval_train: bool = Field(True, description="evaluate the whole training set after each epoch")
    eval: list[Literal["validation", "test"]] = Field(default_factory=lambda: ["test"])
    early_stopping: EarlyStoppingConfig | None = None
    engine: one_of(ENGINES) = "auto"
    threads: int | Literal["auto"] = Field(
        "auto",
        description="threads of NumPy's BLAS: a positive number, or auto (the fastest count measured at "
        "the start of the run; sweep trials use 1 unless a number is given)",
    )
    checkpoint_every: int = Field(
        1,
        ge=0,
        description="write checkpoint.npz after every N epochs (0: only when "
        "stopped by Ctrl-C or SIGTERM); `backproplab resume RUN_DIR` continues from it",
    )
    checkpoint_seconds: float = Field(
        0.0, ge=0, allow_inf_nan=False, description="at most one checkpoint every this many seconds"
    )
    predict: bool = Field(
        False,
        description="after training, write the predicted class of every test row "
        "(int64, in test-file order) to test_pred.npy in the run directory",
    )

    @field_validator("threads", mode="before")
    @classmethod
    def _positive_threads(cls, value: Any) -> Any:
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError(f"training.threads: expected a positive integer or 'auto'; got {value!r}")

    @model_validator(mode="before")
    @classmethod
    def _one_length(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        epochs, iterations = data.get("epochs"), data.get("iterations")
        if epochs is not None and iterations is not None:
            raise ValueError(
                f"training.epochs and training.iterations: give exactly one (the run's length in "
                f"passes over the data, or in optimizer steps); got epochs = {epochs!r} and "
                f"iterations = {iterations!r}"
            )
        if epochs is None and iterations is None:
            return {**data, "epochs": DEFAULT_EPOCHS}
        return data

    @field_validator("loss_every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> Any:
        if value != "auto" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"training.loss_every: expected an integer >= 1 or 'auto'; got {value!r}")
        return value


class PublishedValue(_Section):
    """A published number to compare with: ``metric`` at ``epoch`` (0 = final), e.g. test_acc 0.8804."""

    epoch: int = Field(0, ge=0)
    metric: str
    value: float
    at_least: bool = Field(False, description="a requirement (this run must reach at least value)")
    source: str = ""


class RunConfig(_Section):
    name: str = "run"
    description: str = ""
    variant: Literal["full", "quick"] = Field("full", description="'quick' once the --quick overrides are applied")
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    check: CheckConfig = Field(default_factory=CheckConfig)
    published: list[PublishedValue] = Field(default_factory=list)
    quick: dict[str, Any] = Field(default_factory=dict, description="overrides applied by --quick")

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        if "validation" in self.training.eval and self.data.validation_size == 0:
            raise ValueError(
                "training.eval includes 'validation' but data.validation_size is 0; "
                "set data.validation_size (e.g. 10000)"
            )
        es = self.training.early_stopping
        if es is not None:
            sets = (["train"] if self.training.eval_train else []) + [metric_prefix(s) for s in self.training.eval]
            allowed = [f"{s}_{m}" for s in sets for m in ("loss", "acc")]
            if es.monitor not in allowed:
                raise ValueError(f"training.early_stopping.monitor: expected one of {allowed}; got {es.monitor!r}")
        if self.check.reference == "two_layer":
            self._check_two_layer()
        epochs = self.training.epochs
        if self.optimizer.schedule == "cosine" and epochs is not None and self.optimizer.warmup_epochs >= epochs:
            raise ValueError(
                f"optimizer.warmup_epochs ({self.optimizer.warmup_epochs}) must be smaller than "
                f"training.epochs ({epochs})"
            )
        if (self.data.augment.shift or self.data.augment.flip) and self.data.scale not in AUGMENT_FILL:
            raise ValueError(
                f"data.augment needs data.scale in {sorted(AUGMENT_FILL)} (a blank pixel must have one "
                f"value to fill with); got {self.data.scale!r}"
            )
        engine, backend = self.training.engine, self.model.backend
        if engine != "auto" and (engine == "torch") != (backend == "torch"):
            raise ValueError(
                f"training.engine = {engine!r} cannot train model.backend = {backend!r}: the fast and "
                "numpy engines train NumPy models, the torch engine torch models; use 'auto'"
            )
        return self

    def _check_two_layer(self) -> None:
        m, r = self.model, self.regularization
        given = {
            "model.hidden": (len(m.hidden) == 1, "one width, e.g. [10]", m.hidden),
            "model.activation": (m.activation == "relu", "'relu'", m.activation),
            "model.dropout": (m.dropout == 0, "0", m.dropout),
            "loss.name": (self.loss.name == "softmax_cross_entropy", "'softmax_cross_entropy'", self.loss.name),
            "regularization.l1": (r.l1 == 0, "0", r.l1),
            "regularization.l2_convention": (r.l2_convention == "squared", "'squared'", r.l2_convention),
        }
        bad = [f"{key}: expected {want}; got {value!r}" for key, (ok, want, value) in given.items() if not ok]
        if bad:
            raise ValueError(
                "check.reference = 'two_layer' (an affine-ReLU-affine softmax net with squared L2) "
                "does not fit this config: " + "; ".join(bad)
            )

    def to_toml(self) -> str:
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))


def _format_error(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check the spelling; see `backproplab train --help`)")
            continue
        if err["type"] == "value_error":  # our own validators already name their keys
            lines.append(err["msg"].removeprefix("Value error, "))
            continue
        msg = f"expected {err['ctx']['expected']}" if err["type"] == "literal_error" else err["msg"]
        given = err.get("input")
        hint = ""
        if err["type"] == "literal_error" and isinstance(given, str):
            hint = did_you_mean(given, choices(key))
        lines.append(f"{key}: {msg}" + ("" if isinstance(given, dict) else f"; got {given!r}{hint}"))
    if len(lines) == 1:
        return f"invalid configuration{source}: {lines[0]}"
    return f"invalid configuration{source}:\n  " + "\n  ".join(lines)


def _field(key: str) -> Any:
    """The pydantic field of a dotted config key (``"optimizer.name"``); KeyError when there is none."""
    model: Any = RunConfig
    *sections, name = key.split(".")
    for section in sections:
        model = model.model_fields[section].annotation
    return model.model_fields[name]


def choices(key: str) -> tuple[Any, ...]:
    """The values a config key accepts when it is a choice (``choices("optimizer.name")`` -> ``('sgd', 'adam')``),
    else ``()``."""
    try:
        annotation = _field(key).annotation
    except (KeyError, AttributeError):
        return ()
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def default(key: str) -> Any:
    """The default of a dotted config key (``default("optimizer.lr")`` -> 0.01), as the default config resolves
    it (``training.epochs``: 15, the length when neither epochs nor iterations is given)."""
    value: Any = RunConfig.model_validate({})
    for part in key.split("."):
        value = getattr(value, part)
    return value


def parse_config(data: dict[str, Any], source: str = "") -> RunConfig:
    """Validate a config mapping; raise `ConfigError` naming every bad key."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, f" in {source}" if source else "")) from None


def read_toml(path: str | Path) -> dict[str, Any]:
    try:
        return tomllib.loads(read_utf8(path, "config file", ConfigError))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def load_config(path: str | Path) -> RunConfig:
    return parse_config(read_toml(path), str(path))


# Keys of one table that stand for the same setting (a run's length): an override of one replaces the other.
ALTERNATIVE_KEYS = (("epochs", "iterations"),)


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``overrides`` merged in, table by table (an override of ``training.iterations``
    replaces ``training.epochs`` and the other way round: `ALTERNATIVE_KEYS`)."""
    out = copy.deepcopy(base)
    for pair in ALTERNATIVE_KEYS:
        for given, other in (pair, pair[::-1]):
            if given in overrides and other not in overrides:
                out.pop(other, None)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def flatten_dotted(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables -> dotted keys, the inverse of what `parse_assignment` builds:
    ``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}`` (lists, also of tables, are kept whole)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_dotted(value, f"{dotted}."))
        else:
            out[dotted] = value
    return out


def parse_assignment(text: str) -> dict[str, Any]:
    """``"optimizer.lr=0.1"`` -> ``{"optimizer": {"lr": 0.1}}``; the value is read as TOML (strings may be bare)."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE (e.g. optimizer.lr=0.1); got {text!r}")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    result: dict[str, Any] = value
    for part in reversed(key.split(".")):
        result = {part: result}
    return result


def with_overrides(config: RunConfig, *overrides: dict[str, Any]) -> RunConfig:
    data = config.model_dump(mode="json", exclude_none=True)
    for o in overrides:
        data = deep_merge(data, o)
    return parse_config(data)


def apply_quick(config: RunConfig) -> RunConfig:
    """The config with its ``quick`` overrides applied (shorter runs for tests and previews)."""
    if not config.quick:
        return config
    quick = with_overrides(config, config.quick)
    return quick.model_copy(update={"name": config.name, "quick": {}, "variant": "quick"})


# settings that do not change what a run computes
NOT_TRAINING = ("name", "description", "published", "quick")


def training_part(config: Mapping[str, Any]) -> dict[str, Any]:
    """A dumped config without the settings that do not change what it computes (name, description ...)."""
    return {k: v for k, v in config.items() if k not in NOT_TRAINING}


def config_differences(old: RunConfig, new: RunConfig) -> list[str]:
    """``key: old -> new`` for every setting in which ``new`` would compute something else than ``old``."""
    a = flatten_dotted(training_part(old.model_dump(mode="json", exclude_none=True)))
    b = flatten_dotted(training_part(new.model_dump(mode="json", exclude_none=True)))
    return [
        f"{k}: {a.get(k, '(unset)')!r} -> {b.get(k, '(unset)')!r}"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]
