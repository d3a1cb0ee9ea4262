"""Runs measured in iterations (`training.iterations`, SPEC B's training length), the loss-per-iteration record and
plot of every run, and the PCA cumulative-explained-variance plot (`data.pca_variance`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backproplab.errors import ConfigError
from backproplab.experiments import load_preset, parse_config, resume_experiment, run_experiment, with_overrides
from backproplab.experiments.config import apply_quick
from backproplab.report import write_run_report
from backproplab.rundir import RunDir
from backproplab.train import interrupts
from stop_requests import stop_after
from timings import without_timings

pytestmark = pytest.mark.needs_data("fashion-mnist")

ROWS, BATCH = 100, 7  # 15 steps per epoch, the last one of 2 rows


def _config(**training: Any) -> Any:
    return parse_config(
        {
            "name": "iters",
            "data": {"dataset": "fashion-mnist", "limit_train": ROWS, "limit_test": 50},
            "model": {"hidden": [16], "dropout": 0.1},
            "optimizer": {"lr": 0.2},
            "training": {"batch_size": BATCH, "shuffle": True, "seed": 4, "engine": "numpy", **training},
        }
    )


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return without_timings(RunDir(run_dir).read_history().records)


def test_a_run_of_n_iterations_records_and_plots_every_batch_loss(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_experiment(_config(iterations=25), runs_dir=tmp_path, say=lines.append)
    run = RunDir(result.run_dir)
    history = run.read_history()
    assert "batch 7, 25 iterations, shuffled" in "\n".join(lines)
    assert history.iterations == list(range(1, 26)) and history.params["loss_every"] == 1
    assert history.batch_losses == result.history.batch_losses and all(np.isfinite(history.batch_losses))
    assert [e["iteration"] for e in history.records] == [15, 25] and result.summary["epochs_run"] == 2
    assert history.params["iterations"] == 25 and history.params["epochs"] == 2
    # the cut epoch's running average is over its 10 steps
    assert history.history["batch_loss"][1] == pytest.approx(np.mean(history.batch_losses[15:]), rel=1e-12)
    html = write_run_report(run.path).read_text()
    assert run.has("loss_iterations.png") and "Training loss per iteration" in html
    assert "iterations = 25" in (run.path / "config.toml").read_text()


def test_loss_every_k_through_a_config(tmp_path: Path) -> None:
    result = run_experiment(_config(epochs=2, loss_every=4), runs_dir=tmp_path, verbose=0)
    history = RunDir(result.run_dir).read_history()
    assert history.iterations == [4, 8, 12, 16, 20, 24, 28, 30]  # the last point: the 2 steps since 28
    every = result.history
    assert history.batch_losses == every.batch_losses


@pytest.mark.parametrize("length", [{"iterations": 40}, {"epochs": 3}])
def test_an_interrupted_run_resumes_to_the_same_loss_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, length: dict[str, int]
) -> None:
    """Stopped before step 6 of epoch 2 (inside an open window of k = 4), resumed from its checkpoint: the
    record, the epochs and the weights are those of the run that never stopped."""
    config = _config(loss_every=4, **length)
    whole = run_experiment(config, runs_dir=tmp_path / "whole", verbose=0)
    with monkeypatch.context() as m, interrupts.stop_on_signals():
        stop_after(m, 15 + 6)  # numpy engine: one check before every step
        stopped = run_experiment(config, runs_dir=tmp_path / "stopped", verbose=0)
    assert stopped.status == "interrupted" and stopped.summary["resume"]["step"] == 5
    assert RunDir(stopped.run_dir).read_history().iterations == [4, 8, 12, 16, 20]
    resumed = resume_experiment(stopped.run_dir, verbose=0)
    assert resumed.status == "complete"
    a, b = RunDir(resumed.run_dir).read_history(), RunDir(whole.run_dir).read_history()
    assert a.iterations == b.iterations and a.batch_losses == b.batch_losses
    assert b.iterations[-1] == length.get("iterations", 45)
    assert _records(resumed.run_dir) == _records(whole.run_dir)
    for p, q in zip(
        RunDir(resumed.run_dir).read_model().parameters(), RunDir(whole.run_dir).read_model().parameters(), strict=True
    ):
        assert np.array_equal(p.value, q.value)


def test_epochs_and_iterations_replace_each_other_in_overrides() -> None:
    with pytest.raises(
        ConfigError,
        match=r"training.epochs and training.iterations: give exactly one .* "
        r"got epochs = 3 and iterations = 400",
    ):
        parse_config({"training": {"epochs": 3, "iterations": 400}})
    flagship = load_preset("fashion-sgd")
    by_steps = with_overrides(flagship, {"training": {"iterations": 400}})  # e.g. --set training.iterations=400
    assert (by_steps.training.epochs, by_steps.training.iterations) == (None, 400)
    back = with_overrides(by_steps, {"training": {"epochs": 2}})
    assert (back.training.epochs, back.training.iterations) == (2, None)
    quick = apply_quick(by_steps)  # the preset's quick variant shortens it in epochs
    assert quick.training.iterations is None and quick.training.epochs == apply_quick(flagship).training.epochs
    assert parse_config({}).training.epochs == 15 and parse_config({}).training.loss_every == "auto"
    with pytest.raises(ConfigError, match="training.loss_every: expected an integer >= 1 or 'auto'; got 0"):
        parse_config({"training": {"loss_every": 0}})


def test_pca_run_writes_the_ratios_and_the_cumulative_variance_plot(tmp_path: Path) -> None:
    config = parse_config(
        {
            "name": "pca",
            "data": {"dataset": "fashion-mnist", "limit_train": 300, "limit_test": 50, "pca_variance": 0.9},
            "model": {"hidden": [8]},
            "training": {"epochs": 1, "batch_size": 30},
        }
    )
    result = run_experiment(config, runs_dir=tmp_path, verbose=0)
    run = RunDir(result.run_dir)
    curve = run.read_pca()
    # independently: the eigenvalues of the covariance of the 300 training rows, largest first
    from backproplab.data import load_dataset

    X = load_dataset("fashion-mnist", limit=300).X.astype(np.float64)
    eig = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1]
    ratios = np.clip(eig, 0, None) / eig.sum()
    assert len(curve["ratios"]) == min(300, 784)
    np.testing.assert_allclose(curve["ratios"], ratios[:300], rtol=0, atol=1e-12)
    k = int(np.argmax(np.cumsum(ratios) >= 0.9)) + 1
    assert curve["components"] == k and curve["variance"] == 0.9
    assert curve["explained"] == pytest.approx(np.cumsum(ratios)[k - 1], abs=1e-12)
    assert run.read_model().layers[0].in_features == k  # the run trained on the k components
    html = write_run_report(run.path).read_text()
    assert run.has("pca_variance.png") and "cumulative explained variance against the number of" in html
    assert not run.has("weights.png")  # PCA features are not images
    unprojected = run_experiment(
        config.model_copy(update={"data": config.data.model_copy(update={"pca_variance": None})}),
        runs_dir=tmp_path / "plain",
        verbose=0,
    )
    assert not RunDir(unprojected.run_dir).has(RunDir.PCA)
