"""The fast engine (compiled batch-size-1 SGD) against the NumPy engine: same start, same data order, same result.

Every comparison trains two copies of one model on real Fashion-MNIST rows, one per engine, and compares the
parameters, the optimizer state and the History. In float64 the two engines agree to rounding (1e-10); in
float32 they sum dot products in different orders (BLAS vs a plain loop), so they agree to 1e-4.
"""

from __future__ import annotations

import copy
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Dataset
from backproplab.errors import EngineError
from backproplab.optim import SGD, Adam, InverseScaling, StepDecay
from backproplab.train import EarlyStopping, History, TerminateOnDivergence, evaluate, fit
from backproplab.train import engine as engine_module
from backproplab.train.progress import Progress
from cli_errors import assert_cli_error

TOL = {np.float32: 1e-4, np.float64: 1e-10}
TIMING = ("seconds", "train_seconds")
ACTIVATIONS = [
    ("sigmoid", {}),
    ("relu", {}),
    ("leaky_relu", {"slope": 0.1}),
    ("elu", {"alpha": 0.9}),
    ("tanh", {}),
    ("identity", {}),
]


def both_engines(
    model: nn.Module, data: Any, *, loss: nn.Loss | None = None, opt: dict | None = None, **kwargs: Any
) -> dict[str, tuple[nn.Module, History, SGD]]:
    """Train a copy of ``model`` with each engine (same weights, same settings); results by engine."""
    out = {}
    for engine in ("numpy", "fast"):
        m = copy.deepcopy(model)
        optimizer = SGD(m.parameters(), **{"lr": 0.01, **(opt or {})})
        settings = {"epochs": 1, "batch_size": 1, "shuffle": False, "verbose": 0, **kwargs}
        history = fit(m, copy.deepcopy(loss) or nn.SoftmaxCrossEntropy(), optimizer, data, engine=engine, **settings)
        assert history.engine == engine
        out[engine] = (m, history, optimizer)
    return out


def assert_same(results: dict[str, tuple[nn.Module, History, SGD]], tol: float) -> None:
    (m_np, h_np, o_np), (m_fast, h_fast, o_fast) = results["numpy"], results["fast"]
    for (name, p), q in zip(m_np.named_parameters(), m_fast.parameters(), strict=True):
        assert q.value.dtype == p.value.dtype
        diff = float(np.max(np.abs(p.value - q.value)))
        assert diff < tol, f"{name}: max |numpy - fast| = {diff:g}"
    s_np, s_fast = o_np.state_dict(), o_fast.state_dict()
    assert s_np.keys() == s_fast.keys()
    for key, value in s_np.items():
        if isinstance(value, np.ndarray):  # velocities sum gradients over ~1/(1 - momentum) steps: 10x slack
            np.testing.assert_allclose(s_fast[key], value, rtol=0, atol=10 * tol, err_msg=key)
        else:
            assert s_fast[key] == value, key
    assert h_np.history.keys() == h_fast.history.keys()
    for key, values in h_np.history.items():
        if key not in TIMING:
            np.testing.assert_allclose(h_fast.history[key], values, rtol=0, atol=5e-5, err_msg=key)
    assert h_np.diverged == h_fast.diverged and h_np.stop_reason == h_fast.stop_reason


@pytest.fixture(scope="module")
def rows(fashion_train: Dataset) -> Dataset:
    """2,000 real training rows: 'a few thousand steps' per epoch."""
    return fashion_train.take(2000)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize(("activation", "options"), ACTIVATIONS, ids=[a for a, _ in ACTIVATIONS])
def test_fast_equals_numpy_for_each_activation_and_depth(
    rows: Dataset, fashion_test: Dataset, activation: str, options: dict, depth: int, dtype: Any
) -> None:
    sizes = [784, 24, 16][:depth] + [10]
    model = nn.mlp(sizes, activation, activation_options=options, seed=depth, dtype=dtype)
    data = (rows.X.astype(dtype), rows.y)
    test = (fashion_test.X[:500].astype(dtype), fashion_test.y[:500])
    before = evaluate(model, nn.SoftmaxCrossEntropy(), *data)["loss"]
    results = both_engines(model, data, eval_sets={"test": test})
    assert_same(results, TOL[dtype])
    assert results["fast"][1].history["train_loss"][0] < 0.9 * before  # the epoch did learn


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(
    ("opt", "regularizer"),
    [
        ({"momentum": 0.5}, None),
        ({"momentum": 0.5, "nesterov": True}, None),
        ({"weight_decay": 1e-3}, None),
        ({}, nn.L2(1e-3)),
        ({}, nn.L2(1e-3, half=True)),
        ({"momentum": 0.3, "weight_decay": 1e-4}, [nn.L1(1e-4), nn.L2(5e-4)]),
    ],
    ids=["momentum", "nesterov", "weight_decay", "l2", "l2_half", "l1_l2_decay_momentum"],
)
def test_fast_equals_numpy_with_momentum_and_penalties(rows: Dataset, opt: dict, regularizer: Any, dtype: Any) -> None:
    # sigmoid and a small rate: momentum amplifies the engines' rounding differences in less stable settings
    model = nn.mlp([784, 24, 10], "sigmoid", seed=3, dtype=dtype)
    data = (rows.X[:1000].astype(dtype), rows.y[:1000])
    results = both_engines(model, data, opt=opt, regularizer=regularizer, epochs=2)
    assert_same(results, TOL[dtype])
    if regularizer is not None:
        assert "penalty" in results["fast"][1].history


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("loss", [nn.MSE(), nn.MSE(half=False)], ids=["half", "full"])
def test_fast_equals_numpy_with_squared_error(rows: Dataset, loss: nn.Loss, dtype: Any) -> None:
    model = nn.Sequential(*nn.mlp([784, 24, 10], "relu", seed=4, dtype=dtype).layers, nn.Sigmoid())
    results = both_engines(model, (rows.X[:1500].astype(dtype), rows.y[:1500]), loss=loss, opt={"lr": 0.05})
    assert_same(results, TOL[dtype])


def test_fast_equals_numpy_with_target_rows_schedule_shuffle_and_momentum_carried_over(rows: Dataset) -> None:
    dtype = np.float64
    X, y = rows.X[:1000].astype(dtype), rows.y[:1000]
    targets = 0.9 * nn.one_hot(y, 10, dtype) + 0.01  # smoothed label rows (each row sums to 1)
    model = nn.mlp([784, 16, 10], "elu", seed=5, dtype=dtype)
    for schedule in (StepDecay(0.5), InverseScaling(0.5, 2.0)):
        results = both_engines(
            model,
            (X, targets),
            opt={"lr": 0.01, "momentum": 0.3, "schedule": schedule},
            epochs=3,
            shuffle=True,
            seed=11,
            validation_size=0.1,
        )
        assert_same(results, TOL[dtype])
        lrs = results["fast"][1].history["lr"]
        assert lrs == [schedule(0.01, e) for e in range(3)] and lrs[0] > lrs[2]


def test_fast_equals_numpy_without_biases_and_with_nested_sequentials(rows: Dataset) -> None:
    dtype = np.float64
    model = nn.Sequential(
        nn.Sequential(nn.Dense(784, 12, bias=False, rng=0, dtype=dtype), nn.LeakyReLU(0.2)),
        nn.Dense(12, 10, rng=1, dtype=dtype),
    )
    results = both_engines(
        model, (rows.X[:800].astype(dtype), rows.y[:800]), opt={"momentum": 0.5}, regularizer=nn.L1(1e-4)
    )
    assert_same(results, TOL[dtype])


def test_switching_engines_between_fits_continues_the_same_run(rows: Dataset) -> None:
    dtype = np.float64
    data = (rows.X[:800].astype(dtype), rows.y[:800])
    model = nn.mlp([784, 16, 10], "sigmoid", seed=6, dtype=dtype)
    runs = {}
    for engines in (("numpy", "numpy"), ("fast", "numpy"), ("numpy", "fast")):
        m = copy.deepcopy(model)
        opt = SGD(m.parameters(), lr=0.01, momentum=0.5, nesterov=True)
        for engine in engines:
            fit(m, nn.SoftmaxCrossEntropy(), opt, data, epochs=1, batch_size=1, shuffle=False, verbose=0, engine=engine)
        runs[engines] = (m, opt)
    ref_model, ref_opt = runs[("numpy", "numpy")]
    for m, opt in runs.values():
        assert opt.steps == ref_opt.steps == 1600
        for p, q in zip(ref_model.parameters(), m.parameters(), strict=True):
            np.testing.assert_allclose(q.value, p.value, rtol=0, atol=1e-10)
        for v, w in zip(ref_opt.velocity, opt.velocity, strict=True):
            np.testing.assert_allclose(w, v, rtol=0, atol=1e-10)


def test_parameters_are_updated_in_place(rows: Dataset) -> None:
    model = nn.mlp([784, 8, 10], "relu", seed=0)
    arrays = [p.value for p in model.parameters()]
    before = [a.copy() for a in arrays]
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.01),
        rows.take(200),
        epochs=1,
        batch_size=1,
        verbose=0,
        engine="fast",
    )
    assert all(p.value is a for p, a in zip(model.parameters(), arrays, strict=True))
    assert all(not np.array_equal(a, b) for a, b in zip(arrays, before, strict=True))


def test_early_stopping_restores_best_weights_on_the_fast_engine(rows: Dataset, fashion_test: Dataset) -> None:
    dtype = np.float64
    model = nn.mlp([784, 16, 10], "sigmoid", seed=2, dtype=dtype)
    data = (rows.X[:600].astype(dtype), rows.y[:600])
    val = (fashion_test.X[:300].astype(dtype), fashion_test.y[:300])
    results = {}
    for engine in ("numpy", "fast"):
        m = copy.deepcopy(model)
        # no later epoch can beat the first by min_delta: stop after epoch 1 + patience, restore epoch 1
        stop = EarlyStopping("val_loss", patience=2, min_delta=10.0, restore_best_weights=True)
        h = fit(
            m,
            nn.SoftmaxCrossEntropy(),
            SGD(m.parameters(), lr=0.05),
            data,
            epochs=6,
            batch_size=1,
            verbose=0,
            callbacks=[stop],
            eval_sets={"val": val},
            engine=engine,
        )
        assert h.engine == engine
        results[engine] = (m, h, stop)
    (m_np, h_np, s_np), (m_fast, h_fast, s_fast) = results["numpy"], results["fast"]
    assert len(h_fast) == len(h_np) == 3 and h_fast.stop_reason == h_np.stop_reason
    assert h_fast.params["restored_epoch"] == s_fast.best_epoch == s_np.best_epoch == 1
    for p, q in zip(m_np.parameters(), m_fast.parameters(), strict=True):
        np.testing.assert_allclose(q.value, p.value, rtol=0, atol=1e-10)
    restored = evaluate(m_fast, nn.SoftmaxCrossEntropy(), *val)["loss"]
    assert restored == pytest.approx(h_fast.history["val_loss"][0], abs=1e-12)
    assert restored != pytest.approx(h_fast.history["val_loss"][-1], abs=1e-6)


def test_huge_learning_rate_diverges_on_the_fast_engine(rows: Dataset) -> None:
    model = nn.mlp([784, 16, 10], "relu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from overflow either
        h = fit(
            model,
            nn.MSE(),
            SGD(model.parameters(), lr=50.0),
            rows.take(600),
            epochs=5,
            batch_size=1,
            verbose=0,
            engine="fast",
            callbacks=[TerminateOnDivergence(factor=None)],
        )
    assert h.engine == "fast" and h.diverged and len(h) == 1
    assert h.stop_reason.startswith("Training diverged: the loss became NaN or infinite at epoch 1, batch ")
    ref = nn.mlp([784, 16, 10], "relu", seed=0)
    h_np = fit(
        ref,
        nn.MSE(),
        SGD(ref.parameters(), lr=50.0),
        rows.take(600),
        epochs=5,
        batch_size=1,
        verbose=0,
        engine="numpy",
        callbacks=[TerminateOnDivergence(factor=None)],
    )
    assert h_np.stop_reason == h.stop_reason  # same batch: the engines take the same steps up to the bad one


def test_growing_loss_stops_the_fast_engine_like_the_numpy_engine(rows: Dataset) -> None:
    model = nn.mlp([784, 16, 10], "sigmoid", seed=1)
    h = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=1e3),
        rows.take(300),
        epochs=4,
        batch_size=1,
        verbose=0,
        engine="fast",
    )
    assert h.diverged and len(h) == 1 and h.stop_reason.startswith("Training diverged: train_loss grew to")


@pytest.mark.parametrize(
    ("model", "loss", "make_opt", "kwargs", "expected"),
    [
        (lambda: nn.mlp([784, 8, 10], "relu", dropout=0.5), nn.SoftmaxCrossEntropy(), None, {}, ["layer 2 is Dropout"]),
        (lambda: nn.mlp([784, 8, 10], "relu"), nn.CrossEntropy(), None, {}, ["loss is CrossEntropy"]),
        (
            lambda: nn.mlp([784, 8, 10], "relu"),
            nn.SoftmaxCrossEntropy(),
            lambda ps: Adam(ps),
            {},
            ["optimizer is Adam"],
        ),
        (
            lambda: nn.Sequential(nn.Dense(784, 10), nn.Softmax()),
            nn.CrossEntropy(),
            lambda ps: Adam(ps),
            {"batch_size": 4},
            ["layer 1 is Softmax", "loss is CrossEntropy", "optimizer is Adam"],
        ),
    ],
)
def test_engine_fast_names_everything_it_cannot_do(
    rows: Dataset, model: Any, loss: nn.Loss, make_opt: Any, kwargs: dict, expected: list[str]
) -> None:
    m = model()
    opt = (make_opt or (lambda ps: SGD(ps, lr=0.01)))(m.parameters())
    settings = {"epochs": 1, "batch_size": 1, "verbose": 0, **kwargs}
    with pytest.raises(EngineError) as info:
        fit(m, loss, opt, rows.take(50), engine="fast", **settings)
    message = str(info.value)
    assert message.startswith("engine='fast' cannot train this run: ")
    for text in expected:
        assert text in message
    assert "Use engine='auto'" in message
    # auto quietly takes the NumPy engine for the same run
    m = model()
    opt = (make_opt or (lambda ps: SGD(ps, lr=0.01)))(m.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit(m, loss, opt, rows.take(50), engine="auto", **settings).engine == "numpy"


def test_float32_data_trains_float64_parameters_on_the_fast_engine(rows: Dataset) -> None:
    model = nn.mlp([784, 16, 10], "tanh", seed=7, dtype=np.float64)
    results = both_engines(model, (rows.X[:600], rows.y[:600]))  # X stays float32, as the NumPy engine sees it
    assert_same(results, TOL[np.float64])
    # the other way round would round the data: auto leaves it to NumPy, fast says why
    model32 = nn.mlp([784, 16, 10], "tanh", seed=7)
    X64 = rows.X[:50].astype(np.float64)
    h = fit(
        model32,
        nn.SoftmaxCrossEntropy(),
        SGD(model32.parameters(), lr=0.01),
        (X64, rows.y[:50]),
        epochs=1,
        batch_size=1,
        verbose=0,
    )
    assert h.engine == "numpy"
    with pytest.raises(EngineError, match="training X is float64 but the parameters are float32"):
        fit(
            model32,
            nn.SoftmaxCrossEntropy(),
            SGD(model32.parameters(), lr=0.01),
            (X64, rows.y[:50]),
            epochs=1,
            batch_size=1,
            verbose=0,
            engine="fast",
        )


def test_auto_picks_fast_for_batch_size_one_sgd(rows: Dataset) -> None:
    model = nn.mlp([784, 8, 10], "sigmoid")
    h = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.01),
        rows.take(100),
        epochs=1,
        batch_size=1,
        verbose=0,
    )
    assert h.engine == "fast" and json.loads(h.to_json())["engine"] == "fast"


def test_without_numba_auto_falls_back_with_one_warning_and_fast_names_the_package(
    rows: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module.fast, "numba_available", lambda: False)
    monkeypatch.setattr(engine_module, "_warned_no_numba", False)
    model = nn.mlp([784, 8, 10], "sigmoid")
    opt = SGD(model.parameters(), lr=0.01)
    with pytest.warns(UserWarning, match="numba cannot be imported") as caught:
        h = fit(model, nn.SoftmaxCrossEntropy(), opt, rows.take(50), epochs=1, batch_size=1, verbose=0)
        h2 = fit(model, nn.SoftmaxCrossEntropy(), opt, rows.take(50), epochs=1, batch_size=1, verbose=0)
    assert h.engine == h2.engine == "numpy"
    assert len([w for w in caught if "numba" in str(w.message)]) == 1
    with pytest.raises(ImportError, match=r"engine='fast' needs the 'numba' package"):
        fit(model, nn.SoftmaxCrossEntropy(), opt, rows.take(50), epochs=1, batch_size=1, verbose=0, engine="fast")


def test_progress_lines_are_the_same_on_both_engines(rows: Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    lines = {}
    for engine in ("numpy", "fast"):
        model = nn.mlp([784, 8, 10], "sigmoid", seed=0, dtype=np.float64)
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=0.01),
            (rows.X[:300].astype(np.float64), rows.y[:300]),
            epochs=2,
            batch_size=1,
            verbose=2,
            engine=engine,
        )
        lines[engine] = [line.rsplit(" (", 1)[0] for line in capsys.readouterr().out.splitlines()]
    assert lines["fast"] == lines["numpy"] and len(lines["fast"]) == 2


def test_progress_bar_advances_in_chunks_on_the_fast_engine(
    rows: Dataset, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # verbose=1 draws a tqdm bar on a terminal
    seen: list[tuple[int, float]] = []
    original = Progress.advance

    def spy(self: Progress, batches: int, batch_loss: float) -> None:
        seen.append((batches, batch_loss))
        original(self, batches, batch_loss)

    monkeypatch.setattr(Progress, "advance", spy)
    model = nn.mlp([784, 8, 10], "sigmoid")
    h = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.01),
        rows.take(1000),
        epochs=1,
        batch_size=1,
        verbose=1,
        engine="fast",
    )
    assert h.engine == "fast"
    assert [b for b, _ in seen] == [10] * 100  # every 1% of the 1000 steps
    assert np.mean([v for _, v in seen]) == pytest.approx(h.history["batch_loss"][0], rel=1e-6)
    assert "Epoch 1/1, Train Loss:" in capsys.readouterr().out


def test_evaluate_with_predictions_matches_predict_in_one_pass(rows: Dataset) -> None:
    from backproplab.train import predict

    model = nn.mlp([784, 16, 10], "relu", seed=4)
    loss = nn.SoftmaxCrossEntropy()
    for chunk in (333, 4096):
        got = evaluate(model, loss, rows.X, rows.y, chunk, predictions=True)
        ref = evaluate(model, loss, rows.X, rows.y)
        assert got["loss"] == pytest.approx(ref["loss"], rel=1e-6) and got["accuracy"] == ref["accuracy"]
        np.testing.assert_array_equal(got["predictions"], predict(model, rows.X))
    rows_targets = nn.one_hot(rows.y, 10)
    assert evaluate(model, loss, rows.X, rows_targets, predictions=True)["accuracy"] == ref["accuracy"]
    with pytest.raises(RuntimeError, match="training-mode forward"):
        model.backward(np.ones((1, 10), np.float32))  # evaluation stored no caches


@pytest.mark.needs_data("fashion-mnist")
def test_cli_engine_fast_on_an_unsupported_run_fails_before_writing_anything(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from backproplab.cli.main import main

    common = [
        "train",
        "--limit-train",
        "300",
        "--limit-test",
        "100",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--engine",
        "fast",
    ]
    result = CliRunner().invoke(
        main, [*common, "--optimizer", "adam", "--lr", "0.001", "--runs-dir", str(tmp_path / "runs")]
    )
    assert_cli_error(result, 1, "engine='fast' cannot train this run: optimizer is Adam (supported: SGD)")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    ok = CliRunner().invoke(main, [*common, "--runs-dir", str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    summary = json.loads(next((tmp_path / "ok").iterdir()).joinpath("summary.json").read_text())
    assert summary["engine"] == "fast"


# -- mini-batches (batch_size > 1): the compiled mini-batch kernel against the NumPy engine ---------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize(("activation", "options"), ACTIVATIONS, ids=[a for a, _ in ACTIVATIONS])
def test_fast_minibatches_equal_numpy_for_each_activation_and_depth(
    rows: Dataset, fashion_test: Dataset, activation: str, options: dict, depth: int, dtype: Any
) -> None:
    # 2,000 rows at batch 24: 83 full batches and a last one of 8; shuffled by the same permutation; 3 epochs
    sizes = [784, 24, 16][:depth] + [10]
    model = nn.mlp(sizes, activation, activation_options=options, seed=depth, dtype=dtype)
    data = (rows.X.astype(dtype), rows.y)
    test = (fashion_test.X[:500].astype(dtype), fashion_test.y[:500])
    before = evaluate(model, nn.SoftmaxCrossEntropy(), *data)["loss"]
    results = both_engines(
        model, data, opt={"lr": 0.1}, eval_sets={"test": test}, batch_size=24, epochs=3, shuffle=True, seed=depth
    )
    assert_same(results, TOL[dtype])
    assert results["fast"][2].steps == results["numpy"][2].steps == 3 * 84
    assert results["fast"][1].history["train_loss"][-1] < 0.9 * before  # the epochs did learn


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(
    ("opt", "regularizer", "loss"),
    [
        ({"momentum": 0.5}, None, nn.SoftmaxCrossEntropy()),
        ({"momentum": 0.5, "nesterov": True, "weight_decay": 1e-3}, None, nn.SoftmaxCrossEntropy()),
        ({"momentum": 0.3}, [nn.L1(1e-4), nn.L2(5e-4, half=True)], nn.SoftmaxCrossEntropy()),
        ({}, nn.L2(1e-3), nn.MSE()),
        ({"lr": 0.2}, None, nn.MSE(half=False)),
    ],
    ids=["momentum", "nesterov_decay", "l1_l2_momentum", "l2_mse", "mse_full"],
)
def test_fast_minibatches_equal_numpy_with_momentum_penalties_and_squared_error(
    rows: Dataset, opt: dict, regularizer: Any, loss: nn.Loss, dtype: Any
) -> None:
    model = nn.mlp([784, 24, 10], "sigmoid", seed=3, dtype=dtype)
    data = (rows.X[:1000].astype(dtype), rows.y[:1000])
    results = both_engines(
        model,
        data,
        loss=loss,
        opt={"lr": 0.05, **opt},
        regularizer=regularizer,
        epochs=2,
        batch_size=16,
        shuffle=True,
        seed=4,
    )
    assert_same(results, TOL[dtype])


def test_fast_minibatches_with_target_rows_no_biases_and_a_batch_larger_than_the_data(rows: Dataset) -> None:
    dtype = np.float64
    X, y = rows.X[:300].astype(dtype), rows.y[:300]
    targets = 0.9 * nn.one_hot(y, 10, dtype) + 0.01
    model = nn.Sequential(
        nn.Dense(784, 12, bias=False, rng=0, dtype=dtype), nn.LeakyReLU(0.2), nn.Dense(12, 10, rng=1, dtype=dtype)
    )
    for batch_size in (7, 500):  # 500 > 300 rows: one batch of all of them, as NumPy does
        results = both_engines(
            model,
            (X, targets),
            opt={"lr": 0.1, "momentum": 0.3},
            batch_size=batch_size,
            epochs=2,
            shuffle=True,
            seed=2,
            validation_size=0.1,
        )
        assert_same(results, TOL[dtype])


def test_huge_learning_rate_stops_the_fast_minibatch_engine_at_the_same_batch(rows: Dataset) -> None:
    reasons = {}
    for engine in ("numpy", "fast"):
        model = nn.mlp([784, 16, 10], "relu", seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            h = fit(
                model,
                nn.MSE(),
                SGD(model.parameters(), lr=500.0),
                rows.take(600),
                epochs=5,
                batch_size=8,
                verbose=0,
                engine=engine,
                callbacks=[TerminateOnDivergence(factor=None)],
            )
        assert h.engine == engine and h.diverged and len(h) == 1
        reasons[engine] = h.stop_reason
    assert reasons["fast"] == reasons["numpy"]
    assert reasons["fast"].startswith("Training diverged: the loss became NaN or infinite at epoch 1, batch ")


def test_auto_takes_the_minibatch_kernel_only_for_mostly_zero_inputs(rows: Dataset) -> None:
    model = nn.mlp([784, 8, 10], "sigmoid", seed=0)
    X = rows.X[:400]
    sparse = np.where(X > 0.7, X, 0).astype(np.float32)  # about a fifth of the pixels stay nonzero, as in MNIST
    assert engine_module.nonzero_fraction(X) > engine_module.AUTO_MINIBATCH_MAX_NONZERO
    assert engine_module.nonzero_fraction(sparse) <= engine_module.AUTO_MINIBATCH_MAX_NONZERO
    engines = {}
    for name, data in (("fashion", X), ("sparse", sparse)):
        m = copy.deepcopy(model)
        engines[name] = fit(
            m,
            nn.SoftmaxCrossEntropy(),
            SGD(m.parameters(), lr=0.01),
            (data, rows.y[:400]),
            epochs=1,
            batch_size=32,
            verbose=0,
        ).engine
    assert engines == {"fashion": "numpy", "sparse": "fast"}
