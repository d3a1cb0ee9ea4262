"""Sweep files: validation with errors that name the key, expansion into trials (grid, random, seeds)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backproplab.errors import ConfigError
from backproplab.experiments import RunConfig, load_any, load_preset, preset_kind
from backproplab.experiments.sweep import (
    SweepConfig,
    apply_quick_sweep,
    expand_trials,
    load_sweep,
    parse_sweep,
    random_points,
    with_sweep_overrides,
)

SPIRAL = {
    "data": {"dataset": "spiral", "scale": "none"},
    "model": {"hidden": [8], "activation": "relu"},
    "training": {"epochs": 2, "batch_size": 30},
}


def sweep(space: dict, **extra) -> SweepConfig:
    return parse_sweep({"name": "s", "config": SPIRAL, "search": {"space": space, **extra.pop("search", {})}, **extra})


def test_grid_is_the_cartesian_product_in_key_order_times_seeds():
    s = sweep({"optimizer.lr": [0.1, 0.01], "training.batch_size": [10, 20, 30]}, selection={"seeds": [3, 4]})
    trials = expand_trials(s)
    assert [t.trial_id for t in trials] == [f"t{i:03d}" for i in range(12)]
    expected = [(lr, bs, seed) for lr in (0.1, 0.01) for bs in (10, 20, 30) for seed in (3, 4)]
    got = [(t.params["optimizer.lr"], t.params["training.batch_size"], t.seed) for t in trials]
    assert got == expected
    for t in trials:  # the values really reach the run config, seeds in both places
        assert t.config.optimizer.lr == t.params["optimizer.lr"]
        assert t.config.training.batch_size == t.params["training.batch_size"]
        assert t.config.model.seed == t.config.training.seed == t.seed
        assert t.config.model.hidden == [8] and t.config.data.dataset == "spiral"
        assert t.config.name == f"s-{t.trial_id}"
    assert [t.point for t in trials] == [i // 2 for i in range(12)]


def test_grid_of_lists_values_and_nested_optional_tables():
    s = sweep(
        {"model.hidden": [[4], [8, 8]], "training.early_stopping.patience": [1, 3]},
        config={
            **SPIRAL,
            "data": {**SPIRAL["data"], "validation_size": 30},
            "training": {**SPIRAL["training"], "eval": ["validation"], "early_stopping": {"monitor": "val_loss"}},
        },
    )
    trials = expand_trials(s)
    assert [(t.config.model.hidden, t.config.training.early_stopping.patience) for t in trials] == [
        ([4], 1),
        ([4], 3),
        ([8, 8], 1),
        ([8, 8], 3),
    ]


def test_random_search_is_seeded_and_log_uniform_stays_in_range():
    space = {
        "optimizer.lr": {"log_uniform": [1e-4, 1.0]},
        "training.batch_size": {"int_uniform": [1, 4]},
        "model.dropout": {"uniform": [0.0, 0.5]},
        "model.activation": ["relu", "tanh"],
    }
    a = random_points(space, 400, seed=7)
    assert a == random_points(space, 400, seed=7)
    assert a != random_points(space, 400, seed=8)
    lrs = np.array([p["optimizer.lr"] for p in a])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1.0
    # log-uniform: the decades are equally likely (each of the 4 holds ~100 of 400 draws), unlike uniform
    # sampling, which would put ~90% of the draws in the top decade
    decades = np.histogram(np.log10(lrs), bins=[-4, -3, -2, -1, 0])[0]
    assert decades.min() > 60, decades
    sizes = [p["training.batch_size"] for p in a]
    assert set(sizes) == {1, 2, 3, 4} and all(isinstance(b, int) for b in sizes)
    drops = [p["model.dropout"] for p in a]
    assert 0.0 <= min(drops) and max(drops) <= 0.5
    assert {p["model.activation"] for p in a} == {"relu", "tanh"}


def test_random_trials_times_seeds_and_validated_configs():
    s = sweep(
        {"optimizer.lr": {"log_uniform": [1e-3, 1e-1]}},
        search={"method": "random", "num_trials": 3, "seed": 1},
        selection={"seeds": [0, 1]},
    )
    trials = expand_trials(s)
    assert len(trials) == 6
    assert trials[0].params == trials[1].params and trials[0].seed == 0 and trials[1].seed == 1
    assert len({t.params["optimizer.lr"] for t in trials}) == 3
    assert all(1e-3 <= t.config.optimizer.lr <= 1e-1 for t in trials)
    assert [t.params for t in expand_trials(s)] == [t.params for t in trials]  # stable across expansions


@pytest.mark.parametrize(
    ("space", "extra", "needles"),
    [
        ({"optimizer.lrr": [0.1]}, {}, ["optimizer.lrr", "unknown key", "lr, momentum"]),
        ({"optimiser.lr": [0.1]}, {}, ["optimiser.lr", "optimizer"]),
        ({"optimizer": [0.1]}, {}, ["'optimizer' is a table", "optimizer.lr"]),
        ({"optimizer.lr.x": [0.1]}, {}, ["optimizer.lr.x", "not a table"]),
        ({"optimizer.lr": {"log_uniform": [1e-3, 1.0]}}, {}, ["search.space.optimizer.lr", "random"]),
        (
            {"optimizer.lr": {"log_uniform": [0, 1.0]}},
            {"search": {"method": "random", "num_trials": 2}},
            ["log_uniform", "> 0"],
        ),
        ({"optimizer.lr": {"normal": [0, 1]}}, {}, ["log_uniform", "normal"]),
        ({"optimizer.lr": []}, {}, ["search.space.optimizer.lr", "empty"]),
        ({"optimizer.lr": 0.1}, {}, ["search.space.optimizer.lr", "list of values", "0.1"]),
        ({"model.seed": [1, 2]}, {}, ["model.seed", "selection.seeds"]),
        ({"optimizer.lr": [0.1]}, {"search": {"method": "random"}}, ["num_trials", ">= 1"]),
        ({"optimizer.lr": [0.1]}, {"search": {"method": "bayes"}}, ["search.method", "'grid'", "'random'", "bayes"]),
        (
            {"optimizer.lr": [0.1]},
            {"selection": {"metric": "test_accuracy"}},
            ["selection.metric", "test_acc", "test_accuracy"],
        ),
        ({"optimizer.lr": [0.1]}, {"selection": {"mode": "lowest"}}, ["selection.mode", "'min'", "lowest"]),
        ({"optimizer.lr": [0.1]}, {"selection": {"seeds": []}}, ["selection.seeds"]),
        ({"optimizer.lr": [0.1]}, {"retrain": True}, ["retrain", "unknown key"]),
    ],
)
def test_bad_sweeps_name_the_key_the_allowed_values_and_what_was_given(space, extra, needles):
    with pytest.raises(ConfigError) as info:
        s = sweep(space, **extra)
        expand_trials(s)
    for needle in needles:
        assert needle in str(info.value), str(info.value)


def test_a_bad_value_in_one_point_fails_before_anything_runs():
    s = sweep({"optimizer.lr": [0.1, -1.0]})
    with pytest.raises(ConfigError) as info:
        expand_trials(s)
    message = str(info.value)
    assert "t001" in message and "optimizer.lr = -1.0" in message and "greater than 0" in message


def test_selection_on_validation_needs_a_validation_split():
    with pytest.raises(ConfigError, match="validation_size"):
        expand_trials(sweep({"optimizer.lr": [0.1]}, selection={"metric": "val_loss"}))


def test_mode_defaults_by_metric():
    assert sweep({"optimizer.lr": [0.1]}, selection={"metric": "test_acc"}).selection.mode == "max"
    assert sweep({"optimizer.lr": [0.1]}).selection.mode == "min"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_load_sweep_with_base_preset_quick_and_set(tmp_path):
    path = _write(
        tmp_path / "s.toml",
        """
kind = "sweep"
name = "fsgd"
base = "fashion-sgd"
[config]
training = { epochs = 7 }
[search.space]
"optimizer.lr" = [0.1, 0.2]
[[published]]
metric = "test_acc"
value = 0.8
""",
    )
    s = load_sweep(path)
    base = s.base_config()
    assert base.training.epochs == 7 and base.model.hidden == [256] and base.name == "fsgd"
    assert len(base.published) == 8  # the base preset's own published numbers travel with it
    quick = apply_quick_sweep(s)  # no [quick] in the sweep: the base preset's quick table applies
    assert quick.base_config().training.epochs == 2 and quick.base_config().data.limit_train == 2000
    changed = with_sweep_overrides(
        s, "training.batch_size=10", "search.space.optimizer.lr=[0.5]", "selection.seeds=[1, 2]"
    )
    assert changed.base_config().training.batch_size == 10
    assert [t.params["optimizer.lr"] for t in expand_trials(changed)] == [0.5, 0.5]
    assert changed.selection.seeds == [1, 2]
    resolved = s.resolved()  # self-contained: the base folded into config
    assert (
        resolved.base is None
        and parse_sweep(SweepConfig.model_validate(resolved.model_dump()).model_dump()).base_config() == base
    )


def test_quick_table_of_the_sweep_file(tmp_path):
    path = _write(
        tmp_path / "s.toml",
        """
kind = "sweep"
[config]
data = { dataset = "spiral" }
training = { epochs = 30 }
[search.space]
"optimizer.lr" = [0.1, 0.2, 0.3]
[selection]
seeds = [0, 1]
[quick]
config = { training = { epochs = 2 } }
search = { space = { "optimizer.lr" = [0.1] } }
""",
    )
    s = apply_quick_sweep(load_sweep(path))
    trials = expand_trials(s)
    assert len(trials) == 2 and all(t.config.training.epochs == 2 for t in trials)
    assert all(t.config.variant == "quick" for t in trials)  # without the file saying so
    assert all(t.config.variant == "full" for t in expand_trials(load_sweep(path)))


def test_relative_base_path_is_read_relative_to_the_sweep_file(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "base.toml", 'name = "b"\n[model]\nhidden = [3]\n[data]\ndataset = "spiral"\n')
    path = _write(
        tmp_path / "sub" / "s.toml", 'kind = "sweep"\nbase = "base.toml"\n[search.space]\n"optimizer.lr" = [0.1]\n'
    )
    monkeypatch.chdir(tmp_path)
    assert load_sweep(path).base_config().model.hidden == [3]


def test_load_any_by_kind(tmp_path):
    path = _write(
        tmp_path / "s.toml",
        'kind = "sweep"\n[config.data]\ndataset = "spiral"\n[search.space]\n"optimizer.lr" = [0.1]\n',
    )
    assert isinstance(load_any("fashion-sgd"), RunConfig)
    assert isinstance(load_any(str(path)), SweepConfig)
    assert preset_kind(str(path)) == "sweep" and preset_kind("fashion-sgd") == "run"
    with pytest.raises(ConfigError, match="is a sweep"):
        load_preset(str(path))
    bad = _write(tmp_path / "b.toml", 'kind = "grid"\n')
    with pytest.raises(ConfigError, match="kind: expected one of 'run', 'sweep'; got 'grid'"):
        load_any(str(bad))


def test_log_uniform_bounds_are_kept_exactly_at_the_edges():
    points = random_points({"optimizer.lr": {"log_uniform": [0.5, 0.5]}}, 3, seed=0)
    assert all(math.isclose(p["optimizer.lr"], 0.5) for p in points)
