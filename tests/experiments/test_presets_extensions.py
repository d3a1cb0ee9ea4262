"""Config extensions the presets need: the toy data and check, PCA, 'mean' scaling, model.init_from, variants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab import lab
from backproplab.cli.main import main
from backproplab.data import fit_pca, load_splits
from backproplab.errors import ConfigError
from backproplab.experiments import build_experiment, load_preset, parse_config, run_experiment, with_overrides
from backproplab.experiments.run.init_from import latest_run, runs_root
from backproplab.nn import Dense, load_model

# ------------------------------------------------------------------------------------------------ toy check


def notebook_draws() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cs231n notebook's toy inputs and initial weights, drawn as it draws them (NumPy's global legacy seed)."""
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(1)  # noqa: NPY002
        X = 10 * np.random.randn(5, 4)  # noqa: NPY002
        np.random.seed(0)  # noqa: NPY002
        W1, W2 = 0.1 * np.random.randn(4, 10), 0.1 * np.random.randn(10, 3)  # noqa: NPY002
    finally:
        np.random.set_state(state)  # noqa: NPY002
    return X, W1, W2


def test_toy_data_and_weights_are_the_cs231n_notebook_draws() -> None:
    X, W1, W2 = notebook_draws()
    exp = build_experiment(load_preset("toy-two-layer"))
    train, test = exp.datasets["train"], exp.datasets["test"]
    np.testing.assert_array_equal(train.X, X)
    np.testing.assert_array_equal(train.y, [0, 1, 2, 2, 1])
    np.testing.assert_array_equal(test.X, X)
    dense = [m for m in exp.model.layers if isinstance(m, Dense)]
    np.testing.assert_array_equal(dense[0].weight.value, W1)
    np.testing.assert_array_equal(dense[1].weight.value, W2)
    assert not dense[0].bias.value.any() and not dense[1].bias.value.any()
    assert dense[0].weight.value.dtype == np.float64


def independent_toy_loss(X: np.ndarray, y: np.ndarray, W1: np.ndarray, W2: np.ndarray, reg: float) -> tuple:
    """Scores and loss written out once more, in a different form (log-sum-exp per row, loops over rows)."""
    h = np.where(X @ W1 > 0, X @ W1, 0.0)
    scores = h @ W2
    total = 0.0
    for n in range(len(y)):
        m = scores[n].max()
        total += m + np.log(np.exp(scores[n] - m).sum()) - scores[n, y[n]]
    return scores, total / len(y) + reg * ((W1**2).sum() + (W2**2).sum())


def test_toy_two_layer_run_checks_against_numpy_and_gradcheck(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "toy-two-layer", "--runs-dir", str(tmp_path), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "gradient check, max relative error: W1" in result.output and "(ok: < 1e-08)" in result.output
    (run,) = tmp_path.iterdir()
    check = json.loads((run / "check.json").read_text())
    X, W1, W2 = notebook_draws()
    scores, loss = independent_toy_loss(X, np.array([0, 1, 2, 2, 1]), W1, W2, 0.05)
    np.testing.assert_allclose(check["scores"], scores, rtol=1e-12, atol=1e-14)
    assert check["loss"] == pytest.approx(loss, rel=1e-12)
    errors = check["gradcheck"]["max_rel_error"]
    assert set(errors) == {"W1", "b1", "W2", "b2"} and max(errors.values()) < 1e-8
    ref = check["reference"]
    assert ref["passed"] and max(ref["grads_rel_error"].values()) < 1e-12 and ref["scores_max_abs_diff"] < 1e-12
    summary = json.loads((run / "summary.json").read_text())
    assert summary["check"] == {"file": "check.json", "passed": True}
    # 100 full-batch SGD steps (lr 0.1, reg 0.05): measured data loss 0.017 from 1.27, all 5 samples right
    assert summary["final"]["train_loss"] < 0.05 and summary["final"]["train_acc"] == 1.0


def test_two_layer_reference_rejects_other_architectures() -> None:
    data = load_preset("toy-two-layer").model_dump(mode="json", exclude_none=True)
    data["model"]["activation"] = "sigmoid"
    data["model"]["hidden"] = [10, 10]
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert "model.activation: expected 'relu'; got 'sigmoid'" in str(err.value)
    assert "model.hidden: expected one width" in str(err.value)


# ----------------------------------------------------------------------------------------------------- PCA


def test_pca_matches_an_eigendecomposition_of_the_covariance(rng: np.random.Generator) -> None:
    # 200 rows in 6-D with very different variances along random directions
    basis = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    X = (rng.standard_normal((200, 6)) * [10, 5, 2, 1, 0.5, 0.1]) @ basis.T + 3.0
    eigval, eigvec = np.linalg.eigh(np.cov(X, rowvar=False))
    eigval, eigvec = eigval[::-1], eigvec[:, ::-1]
    explained = np.cumsum(eigval) / eigval.sum()
    for variance in (0.5, 0.9, 0.99, 1.0):
        k = int(np.argmax(explained >= variance - 1e-12)) + 1
        pca = fit_pca(X, variance)
        assert pca.num_components == k and pca.explained == pytest.approx(explained[k - 1])
        projected = pca(X)
        expected = (X - X.mean(axis=0)) @ eigvec[:, :k]
        signs = np.sign((projected * expected).sum(axis=0))  # components are defined up to sign
        np.testing.assert_allclose(projected * signs, expected, atol=1e-9)


@pytest.mark.needs_data("fashion-mnist")
def test_pca_in_a_config_fits_on_train_and_projects_every_split() -> None:
    config = parse_config(
        {
            "data": {
                "dataset": "fashion-mnist",
                "limit_train": 500,
                "limit_test": 100,
                "pca_variance": 0.8,
                "validation_size": 1000,
            },
            "training": {"eval": ["test"]},
        }
    )
    ds = build_experiment(config).datasets
    raw = load_splits("fashion-mnist", validation_size=1000, seed=0)
    train = raw["train"].X[:500].astype(np.float64)
    eigval, eigvec = np.linalg.eigh(np.cov(train, rowvar=False))
    eigval, eigvec = eigval[::-1], eigvec[:, ::-1]
    k = int(np.argmax(np.cumsum(eigval) / eigval.sum() >= 0.8)) + 1
    assert {s: d.X.shape[1] for s, d in ds.items()} == {"train": k, "validation": k, "test": k}
    assert ds["train"].image_shape is None and ds["test"].meta["pca_components"] == k
    expected = (raw["test"].X[:100].astype(np.float64) - train.mean(axis=0)) @ eigvec[:, :k]
    signs = np.sign((ds["test"].X * expected).sum(axis=0))
    np.testing.assert_allclose(ds["test"].X * signs, expected, atol=1e-3)


@pytest.mark.parametrize("value", [0, -0.5, 1.5])
def test_pca_variance_must_be_a_fraction(value: float) -> None:
    with pytest.raises(ConfigError, match=rf"data.pca_variance: .*; got {value}"):
        parse_config({"data": {"pca_variance": value}})


@pytest.mark.needs_data("fashion-mnist")
def test_mean_scaling_subtracts_the_training_mean_image() -> None:
    unit = load_splits("fashion-mnist", scale="none", validation_size=1000, seed=3)
    mean = load_splits("fashion-mnist", scale="mean", validation_size=1000, seed=3)
    mu = unit["train"].X.astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(mean["test"].X[:50], unit["test"].X[:50] - mu, atol=1e-3)
    np.testing.assert_allclose(mean["train"].X.mean(axis=0), 0, atol=1e-3)


# ------------------------------------------------------------------------------------------- model.init_from


def spiral_config(**model: object) -> object:
    return parse_config(
        {
            "name": "spiral-start",
            "data": {"dataset": "spiral"},
            "model": {"hidden": [8], "activation": "tanh", **model},
            "optimizer": {"lr": 0.5},
            "training": {"epochs": 3, "batch_size": 30, "eval": ["test"]},
        }
    )


def test_init_from_a_run_directory_loads_its_exact_weights(tmp_path: Path) -> None:
    first = run_experiment(spiral_config(), runs_dir=tmp_path, verbose=0)
    saved = load_model(first.run_dir / "model.npz")
    second = spiral_config(init_from=str(first.run_dir), seed=99, dropout=0.2)
    model = build_experiment(second).model
    src = [m for m in saved.layers if isinstance(m, Dense)]
    dst = [m for m in model.layers if isinstance(m, Dense)]
    for s, d in zip(src, dst, strict=True):
        np.testing.assert_array_equal(d.weight.value, s.weight.value)
        np.testing.assert_array_equal(d.bias.value, s.bias.value)
    fresh = build_experiment(spiral_config(seed=99)).model
    assert not np.array_equal(fresh.layers[0].weight.value, src[0].weight.value)
    # the run records the resolved model file; its config.toml keeps the value as given
    result = run_experiment(second, runs_dir=tmp_path, verbose=0)
    assert result.summary["init_from"] == str((first.run_dir / "model.npz").resolve())
    assert f'init_from = "{first.run_dir}"' in (result.run_dir / "config.toml").read_text()


def test_init_from_a_preset_runs_it_once_then_reuses_it(tmp_path: Path) -> None:
    config = with_overrides(
        load_preset("toy-two-layer"),
        {
            "name": "toy-again",
            "check": {"gradient": False, "reference": "none"},
            "model": {"init_from": "toy-two-layer"},
        },
    )
    # a run never starts another one: without a run of the preset, run_experiment says what to do ...
    with pytest.raises(
        ConfigError,
        match=r"init_from = 'toy-two-layer': no complete full run of that preset under "
        r".*; run it first \(`backproplab run toy-two-layer`",
    ):
        run_experiment(config, runs_dir=tmp_path, verbose=0)
    assert not list(tmp_path.iterdir())
    # ... and the lab runs the preset first, once, before the run that needs it
    first = lab.run(config, runs_dir=tmp_path, report=False, tracker="none", verbose=0)
    toy = latest_run(tmp_path, "toy-two-layer", "full")
    assert toy is not None and first.summary["init_from"] == str((toy / "model.npz").resolve())
    second = lab.run(config, runs_dir=tmp_path, report=False, tracker="none", verbose=0)
    assert second.summary["init_from"] == first.summary["init_from"]
    assert sum(1 for p in tmp_path.glob("*/summary.json") if "toy-two-layer" in p.parent.name) == 1
    # a quick run never reuses a full one
    assert latest_run(tmp_path, "toy-two-layer", "quick") is None
    # the trained toy weights start near the end of the toy run: its first epoch is already at its final loss
    first_epoch = json.loads((first.run_dir / "metrics.json").read_text())["history"]["train_loss"][0]
    assert first_epoch < 0.05


def test_init_from_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model.init_from: 'no-such-thing' is neither"):
        run_experiment(spiral_config(init_from="no-such-thing"), runs_dir=tmp_path, verbose=0)
    run = run_experiment(spiral_config(), runs_dir=tmp_path, verbose=0)
    wider = parse_config(
        {
            **spiral_config().model_dump(mode="json", exclude_none=True),
            "model": {"hidden": [16], "activation": "tanh", "init_from": str(run.run_dir)},
        }
    )
    with pytest.raises(
        ConfigError,
        match=r"model.init_from: .* shapes \[\(2, 8\), \(8, 3\)\]; .* needs "
        r"\[\(2, 16\), \(16, 3\)\]",
    ):
        build_experiment(wider)
    assert spiral_config(init_from="none").model.init_from is None


def test_runs_root_of_a_sweep_trial_is_the_directory_holding_the_sweep(tmp_path: Path) -> None:
    sweep = tmp_path / "x-sweep"
    (sweep / "trials" / "t000").mkdir(parents=True)
    (sweep / "sweep.toml").write_text("")
    assert runs_root(None, sweep / "trials" / "t000") == tmp_path.resolve()
    assert runs_root(None, sweep / "retrain") == tmp_path.resolve()
    assert runs_root(tmp_path / "given", sweep / "retrain") == tmp_path / "given"
    assert runs_root(None, tmp_path / "20260101-000000-run") == tmp_path.resolve()


def test_no_hidden_layer_is_softmax_regression() -> None:
    model = build_experiment(parse_config({"data": {"dataset": "spiral"}, "model": {"hidden": []}})).model
    assert [type(m).__name__ for m in model.layers] == ["Dense"] and model.layers[0].weight.shape == (2, 3)


def test_reported_test_loss_is_the_unregularised_cross_entropy(tmp_path: Path) -> None:
    config = parse_config(
        {
            "data": {"dataset": "spiral"},
            "model": {"hidden": []},
            "regularization": {"l2": 0.5, "l2_convention": "half"},
            "optimizer": {"lr": 0.1},
            "training": {"epochs": 3, "batch_size": 30, "eval": ["test"]},
        }
    )
    result = run_experiment(config, runs_dir=tmp_path, verbose=0)
    model = load_model(result.run_dir / "model.npz")
    test = result.experiment.datasets["test"]
    W, b = (np.asarray(a, dtype=np.float64) for a in (model.layers[0].weight.value, model.layers[0].bias.value))
    z = test.X.astype(np.float64) @ W + b
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    ce = -log_p[np.arange(len(test.y)), test.y].mean()
    assert result.summary["final"]["test_loss"] == pytest.approx(ce, rel=1e-5)
    assert 0.5 * 0.5 * (W**2).sum() > 1e-3  # the penalty the reported loss leaves out is not negligible
