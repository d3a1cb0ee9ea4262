"""The best presets of issue 13: what they train, the targets they report against, and their searches."""

from __future__ import annotations

import pytest

from backproplab.experiments import apply_quick, load_any, load_preset
from backproplab.experiments.run.build import build_experiment
from backproplab.experiments.sweep import expand_trials
from backproplab.nn import BatchNorm, Dropout, ReLU
from backproplab.optim import SGD, WarmupCosine


@pytest.mark.parametrize(
    ("name", "dataset", "target", "shift"),
    [
        pytest.param("fashion-best", "fashion-mnist", 0.91, 0, marks=pytest.mark.needs_data("fashion-mnist")),
        pytest.param("mnist-best", "mnist", 0.989, 1, marks=pytest.mark.needs_data("mnist")),
    ],
)
def test_best_preset_recipe_and_target(name: str, dataset: str, target: float, shift: int) -> None:
    config = load_preset(name)
    assert config.data.dataset == dataset and config.data.validation_size == 0  # trained on all 60,000 rows
    assert config.data.augment.shift == shift and not config.training.eval_train
    (published,) = config.published
    assert (published.metric, published.value, published.at_least) == ("test_acc", target, True)
    exp = build_experiment(apply_quick(config))
    kinds = [type(m) for m in exp.model]
    assert kinds.count(BatchNorm) == 2 and kinds.count(Dropout) == 2 and kinds.count(ReLU) == 2
    assert isinstance(exp.optimizer, SGD) and exp.optimizer.nesterov and exp.optimizer.weight_decay > 0
    assert isinstance(exp.optimizer.schedule, WarmupCosine)
    assert (exp.augment is not None) == config.data.augment.enabled


@pytest.mark.parametrize(
    ("name", "run_preset", "trials"),
    [("fashion-best-search", "fashion-best", 18), ("mnist-best-search", "mnist-best", 6)],
)
def test_search_scores_on_validation_only_and_covers_the_preset(name: str, run_preset: str, trials: int) -> None:
    sweep = load_any(name)
    assert sweep.selection.metric == "val_acc" and sweep.selection.retrain
    expanded = expand_trials(sweep)
    assert len(expanded) == trials
    preset = load_preset(run_preset)
    for trial in expanded:
        assert trial.config.data.validation_size == 10000 and trial.config.training.eval == ["validation"]
        assert trial.config.training.threads == 1
    chosen = [
        t
        for t in expanded
        if t.config.model.dropout == preset.model.dropout
        and t.config.data.augment == preset.data.augment
        and t.config.training.epochs == preset.training.epochs
    ]
    assert len(chosen) == len(sweep.selection.seeds)  # the preset's own settings are a point of its search
