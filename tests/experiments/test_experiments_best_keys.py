"""The config keys behind the best presets: model.batch_norm, data.augment, the cosine schedule and
training.threads, from TOML to the objects `fit` gets, the run's records, the sweep trials and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.data import Mixup, RandomShift
from backproplab.errors import ConfigError
from backproplab.experiments import run_experiment
from backproplab.experiments.config import parse_config
from backproplab.experiments.run.build import build_experiment
from backproplab.experiments.sweep.trials import trial_config
from backproplab.nn import BatchNorm
from backproplab.optim import WarmupCosine

pytestmark = pytest.mark.needs_data("fashion-mnist")

SMALL = {
    "data": {"limit_train": 300, "limit_test": 100},
    "model": {"hidden": [12, 8], "activation": "relu"},
    "training": {"epochs": 2, "batch_size": 50, "shuffle": True},
}


def config(**sections: dict) -> object:
    data = {k: dict(v) for k, v in SMALL.items()}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return parse_config(data)


def test_keys_build_batch_norm_augmentation_and_schedule() -> None:
    cfg = config(
        model={"hidden": [12, 8], "activation": "relu", "batch_norm": True},
        data={"augment": {"shift": 2, "flip": True, "mixup": 0.3}, "scale": "centered"},
        optimizer={"schedule": "cosine", "warmup_epochs": 1, "lr": 0.2},
        training={"seed": 4},
    )
    exp = build_experiment(cfg)
    assert [type(m).__name__ for m in exp.model] == [
        "Dense",
        "BatchNorm",
        "ReLU",
        "Dense",
        "BatchNorm",
        "ReLU",
        "Dense",
    ]
    assert isinstance(exp.model[1], BatchNorm) and exp.model[0].bias is None
    schedule = exp.optimizer.schedule
    assert isinstance(schedule, WarmupCosine) and (schedule.epochs, schedule.warmup) == (2, 1)
    assert exp.augment is not None
    aug, mixup = exp.augment.steps
    assert isinstance(aug, RandomShift) and (aug.max_shift, aug.flip, aug.fill) == (2, True, -0.5)
    assert isinstance(mixup, Mixup) and (mixup.alpha, mixup.num_classes) == (0.3, 10)
    again = build_experiment(cfg).augment
    assert again is not None and np.array_equal(aug.draw(50)[0], again.steps[0].draw(50)[0])  # from training.seed
    shuffle = np.random.default_rng(4).integers(-2, 3, size=50)
    assert not np.array_equal(build_experiment(cfg).augment.steps[0].draw(50)[0], shuffle)  # not fit's stream
    assert mixup.rng.beta(1, 1) != aug.rng.beta(1, 1)  # independent streams


def test_augmentation_off_by_default_and_refused_where_rows_are_not_images() -> None:
    assert build_experiment(config()).augment is None
    with pytest.raises(ConfigError, match="are not images here"):
        build_experiment(config(data={"augment": {"shift": 1}, "pca_variance": 0.9}))
    assert build_experiment(config(data={"augment": {"mixup": 0.2}, "pca_variance": 0.9})).augment is not None
    with pytest.raises(ConfigError, match="data.augment needs data.scale in"):
        config(data={"augment": {"flip": True}, "scale": "standardize"})
    with pytest.raises(ConfigError, match=r"data.augment.shift: Input should be less than or equal to 8"):
        config(data={"augment": {"shift": 9}})


def test_run_records_threads_and_augmentation(tmp_path: Path) -> None:
    cfg = config(
        model={"hidden": [12, 8], "activation": "relu", "batch_norm": True},
        data={"augment": {"shift": 1}},
        training={"threads": 1},
    )
    result = run_experiment(cfg, runs_dir=tmp_path, verbose=0)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["threads"] == 1 and result.history.params["threads"] == 1
    assert result.history.params["augment"].startswith("Compose(RandomShift(max_shift=1")
    assert summary["engine"] == "fast" and 0.0 <= summary["final"]["test_acc"] <= 1.0  # fast.LayerTrainer


def test_sweep_trials_use_one_thread_unless_told() -> None:
    base = config()
    assert base.training.threads == "auto"
    assert trial_config(base, {}, 0, "t").training.threads == 1
    assert trial_config(config(training={"threads": 2}), {}, 0, "t").training.threads == 2


def test_cli_threads_option(tmp_path: Path) -> None:
    cli = CliRunner()
    bad = cli.invoke(main, ["train", "--threads", "0", "--runs-dir", str(tmp_path)])
    assert bad.exit_code == 2 and "expected a positive integer or 'auto'; got '0'" in bad.output
    args = [
        "train",
        "--limit-train",
        "200",
        "--limit-test",
        "100",
        "--hidden",
        "8",
        "--batch-size",
        "50",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--runs-dir",
        str(tmp_path),
        "--no-report",
        "--tracker",
        "none",
    ]
    ok = cli.invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert "BLAS threads: 1\n" in ok.output
    (run,) = [d for d in tmp_path.iterdir() if d.is_dir()]
    assert json.loads((run / "summary.json").read_text())["threads"] == 1


def test_bad_schedule_and_mixup_settings_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"optimizer.warmup_epochs \(2\) must be smaller than training.epochs \(2\)"):
        config(optimizer={"schedule": "cosine", "warmup_epochs": 2})
    with pytest.raises(ConfigError, match=r"data.augment.mixup: Input should be greater than or equal to 0"):
        config(data={"augment": {"mixup": -0.1}})
    with pytest.raises(ConfigError, match=r"optimizer.schedule.*cosine.*'cosne'"):
        config(optimizer={"schedule": "cosne"})
