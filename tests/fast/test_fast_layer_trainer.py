"""fast.LayerTrainer (mini-batches with BatchNorm, Dropout, augmentation) against the NumPy engine: the same
start, data order, dropout draws and augmentation give the same parameters, BatchNorm statistics, optimizer
state and History; bit for bit where every step is a product, a sum or ReLU (exp and expm1 may differ in the
last bit between NumPy and numba, so the other activations agree to rounding)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Compose, Dataset, Mixup, RandomShift
from backproplab.errors import EngineError
from backproplab.optim import SGD, Adam, WarmupCosine
from backproplab.train import History, TerminateOnDivergence, fit

TIMING = ("seconds", "train_seconds")


@pytest.fixture(scope="module")
def rows(fashion_train: Dataset) -> Dataset:
    return fashion_train.take(600)


def train_both(
    model: nn.Module, data: Any, make_opt: Any, *, augment: Any = None, regularizer: Any = None, **kwargs: Any
) -> dict[str, tuple[nn.Module, History, Any]]:
    out = {}
    for engine in ("numpy", "fast"):
        m = copy.deepcopy(model)
        opt = make_opt(m.parameters())
        settings = {"epochs": 2, "batch_size": 50, "seed": 3, "verbose": 0, **kwargs}
        h = fit(
            m,
            nn.SoftmaxCrossEntropy(),
            opt,
            data,
            engine=engine,
            augment=copy.deepcopy(augment),
            regularizer=regularizer,
            **settings,
        )
        assert h.engine == engine
        out[engine] = (m, h, opt)
    return out


def compare(results: dict[str, tuple[nn.Module, History, Any]], atol: float) -> None:
    (m_np, h_np, o_np), (m_fast, h_fast, o_fast) = results["numpy"], results["fast"]
    state_np, state_fast = m_np.state_dict(), m_fast.state_dict()  # parameters and BatchNorm statistics
    assert state_np.keys() == state_fast.keys()
    for key, value in state_np.items():
        np.testing.assert_allclose(state_fast[key], value, rtol=0, atol=atol, err_msg=key)
    opt_np, opt_fast = o_np.state_dict(), o_fast.state_dict()
    assert opt_np.keys() == opt_fast.keys()
    for key, value in opt_np.items():
        np.testing.assert_allclose(opt_fast[key], value, rtol=0, atol=10 * atol, err_msg=key)
    for key, values in h_np.history.items():
        if key not in TIMING:
            np.testing.assert_allclose(h_fast.history[key], values, rtol=0, atol=max(atol, 1e-12), err_msg=key)


def SGD_NESTEROV(ps: Any) -> SGD:  # noqa: N802 (a constant-like factory, listed beside lambdas below)
    return SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3, schedule=WarmupCosine(2, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(
    "make_opt",
    [SGD_NESTEROV, lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps, lr=1e-3)],
    ids=["sgd-nesterov-decay", "sgd", "adam"],
)
def test_relu_batchnorm_dropout_augmentation_bit_for_bit(rows: Dataset, dtype: Any, make_opt: Any) -> None:
    model = nn.mlp([784, 24, 16, 10], "relu", batch_norm=True, dropout=0.2, seed=1, dtype=dtype)
    results = train_both(
        model,
        (rows.X.astype(dtype), rows.y),
        make_opt,
        augment=RandomShift(1, (28, 28), flip=True, rng=2),
        regularizer=nn.L2(1e-4),
        eval_sets={"test": rows.take(100)},
    )
    compare(results, 0.0)


def test_mixup_soft_targets_bit_for_bit(rows: Dataset) -> None:
    model = nn.mlp([784, 24, 10], "relu", batch_norm=True, dropout=0.1, seed=6)
    augment = Compose(RandomShift(1, (28, 28), rng=3), Mixup(0.3, 10, rng=4))
    compare(train_both(model, rows, SGD_NESTEROV, augment=augment), 0.0)


@pytest.mark.parametrize(
    ("activation", "options"),
    [("sigmoid", {}), ("tanh", {}), ("elu", {"alpha": 0.9}), ("leaky_relu", {"slope": 0.1}), ("identity", {})],
)
def test_other_activations_without_batchnorm_agree_to_rounding(rows: Dataset, activation: str, options: dict) -> None:
    model = nn.mlp([784, 16, 10], activation, activation_options=options, dropout=0.3, seed=4, dtype=np.float64)
    compare(
        train_both(model, rows, lambda ps: SGD(ps, lr=0.05, momentum=0.5), regularizer=nn.L1(1e-4), shuffle=False),
        1e-12,
    )


def test_last_batch_smaller_dropout_zero_and_no_biases(rows: Dataset) -> None:
    layers = [
        nn.Dense(784, 12, bias=False, rng=0, dtype=np.float64),
        nn.BatchNorm(12, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(0.0),
        nn.Dense(12, 10, rng=1, dtype=np.float64),
    ]
    model = nn.Sequential(nn.Sequential(*layers[:3]), *layers[3:])  # nested Sequentials are flattened
    compare(train_both(model, rows.take(130), lambda ps: SGD(ps, lr=0.1, momentum=0.9)), 0.0)  # 50, 50, 30


def test_auto_takes_the_layer_trainer_only_for_what_the_kernels_cannot_do(rows: Dataset) -> None:
    def engine(model: nn.Module, batch_size: int = 50, **kwargs: Any) -> str:
        return fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=0.01),
            rows.take(100),
            epochs=1,
            batch_size=batch_size,
            verbose=0,
            eval_train=False,
            **kwargs,
        ).engine

    assert engine(nn.mlp([784, 8, 10], "relu", batch_norm=True, seed=0)) == "fast"
    assert engine(nn.mlp([784, 8, 10], "relu", dropout=0.5, seed=0)) == "fast"
    assert engine(nn.mlp([784, 8, 10], "relu", seed=0), augment=RandomShift(1, (28, 28))) == "fast"
    assert engine(nn.mlp([784, 8, 10], "relu", seed=0)) == "numpy"  # dense pixels, plain MLP: BLAS NumPy engine
    assert engine(nn.mlp([784, 8, 10], "relu", dropout=0.5, seed=0), batch_size=1) == "numpy"


def test_engine_fast_names_what_neither_compiled_path_can_do(rows: Dataset) -> None:
    model = nn.Sequential(nn.Dense(784, 10, rng=0), nn.Softmax())
    with pytest.raises(EngineError) as info:
        fit(
            model,
            nn.CrossEntropy(),
            SGD(model.parameters(), lr=0.1),
            rows.take(60),
            epochs=1,
            batch_size=20,
            verbose=0,
            engine="fast",
        )
    message = str(info.value)
    assert "layer 1 is Softmax (supported: Dense and elementwise activations)" in message
    assert "this run does not fit either: layer 1 is Softmax (supported: Dense, BatchNorm, Dropout" in message


def test_batchnorm_with_a_last_batch_of_one_row_fails_like_the_module(rows: Dataset) -> None:
    model = nn.mlp([784, 8, 10], "relu", batch_norm=True, seed=0)
    with pytest.raises(ValueError, match="at least 2 rows per training batch"):
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=0.1),
            rows.take(51),
            epochs=1,
            batch_size=50,
            verbose=0,
            engine="fast",
        )


def test_divergence_stops_at_the_same_batch_as_the_numpy_engine(rows: Dataset) -> None:
    model = nn.mlp([784, 16, 10], "relu", dropout=0.1, seed=0)
    results = {}
    for engine in ("numpy", "fast"):
        m = copy.deepcopy(model)
        results[engine] = fit(
            m,
            nn.MSE(),
            SGD(m.parameters(), lr=1e4),
            rows,
            epochs=3,
            batch_size=20,
            verbose=0,
            engine=engine,
            callbacks=[TerminateOnDivergence(None)],
        )
    assert results["fast"].diverged and results["fast"].stop_reason == results["numpy"].stop_reason
    assert "NaN or infinite at epoch 1, batch" in results["fast"].stop_reason


def test_switching_engines_between_fits_continues_the_same_run(rows: Dataset) -> None:
    base = nn.mlp([784, 16, 10], "relu", batch_norm=True, dropout=0.2, seed=5)
    whole, parts = copy.deepcopy(base), copy.deepcopy(base)
    opt_whole = SGD(whole.parameters(), lr=0.05, momentum=0.9)
    opt_parts = SGD(parts.parameters(), lr=0.05, momentum=0.9)
    data = rows.take(300)
    fit(
        whole,
        nn.SoftmaxCrossEntropy(),
        opt_whole,
        data,
        epochs=2,
        batch_size=30,
        seed=1,
        shuffle=False,
        verbose=0,
        engine="numpy",
    )
    for engine in ("fast", "numpy"):
        fit(
            parts,
            nn.SoftmaxCrossEntropy(),
            opt_parts,
            data,
            epochs=1,
            batch_size=30,
            seed=1,
            shuffle=False,
            verbose=0,
            engine=engine,
        )
    for key, value in whole.state_dict().items():
        np.testing.assert_array_equal(parts.state_dict()[key], value, err_msg=key)
    assert opt_whole.steps == opt_parts.steps == 20


def test_kernels_give_the_same_bits_for_any_split_into_threads(rng: np.random.Generator) -> None:
    import numba

    from backproplab.fast import layer_kernels as k
    from backproplab.fast.kernel_args import SGDHyper

    x = rng.standard_normal((37, 53)).astype(np.float32)
    g = rng.standard_normal((37, 53)).astype(np.float32)
    gamma, beta = rng.standard_normal(53).astype(np.float32), rng.standard_normal(53).astype(np.float32)
    w, grad = rng.standard_normal((29, 53)).astype(np.float32), rng.standard_normal((29, 53)).astype(np.float32)
    hyper = SGDHyper(
        lr=np.float32(0.1),
        momentum=np.float32(0.9),
        nesterov=np.float32(1),
        weight_decay=np.float32(1e-3),
        reg_code=np.array([1], np.int64),
        reg_c=np.array([2e-4], np.float32),
    )
    outputs = []
    for blocks in (1, 2, 5):
        numba.set_num_threads(min(blocks, numba.config.NUMBA_NUM_THREADS))
        stats = [np.zeros(53, np.float32), np.ones(53, np.float32)]
        work = [np.empty(53, np.float32) for _ in range(3)] + [np.empty_like(x), np.empty_like(x)]
        k.batchnorm_forward(
            x,
            gamma,
            beta,
            *stats,
            37.0,
            np.float32(1e-5),
            np.float32(0.9),
            np.float32(0.1),
            np.float32(0.1 * 37 / 36),
            *work,
            blocks,
        )
        back = [np.empty(53, np.float32), np.empty(53, np.float32), np.empty_like(x)]
        k.batchnorm_backward(g, gamma, work[2].copy(), work[3], np.float32(37), *back[:2], True, back[2], blocks)
        relu = np.empty_like(x)
        k.relu_forward(x, relu, blocks)
        w2, v2 = w.copy(), np.zeros_like(w)
        for ready in (False, True):
            k.sgd_update(w2, v2, grad, hyper, True, ready, blocks)
        outputs.append([*stats, *work, *back, relu, w2, v2])
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for other in outputs[1:]:
        for a, b in zip(outputs[0], other, strict=True):
            np.testing.assert_array_equal(a, b)
