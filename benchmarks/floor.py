"""The batch-1 floor: the part of a fast-engine step that no batch-size-1 SGD implementation can skip.

One SGD step on one example must (1) find the example's nonzero pixels, (2) read the first layer's weight row
of each of them to form the pre-activations (forward), and (3) rewrite those rows (update: W1[i] -= lr x_i g).
Everything else in the step (the activation, the second layer, the loss and its gradient, the biases) touches
a few thousand numbers; these three touch ``nnz * hidden`` weights twice, which for 784-256-10 on Fashion-MNIST
(about 390 nonzero pixels) is about 100,000 floats read, and as many written back, per example.

`floor_epoch` does exactly that work and nothing else, with the fast engine's own loops for (1) and (2)
(`backproplab.fast.shared_kernels.add_scaled_rows`: eight rows per pass) and a plain streaming loop for (3); the
gradient ``g`` is a fixed vector, and a checksum of each forward keeps the compiler from dropping it. Its time per
example on this machine's caches is the floor; `measure_floor` also times the fast engine's kernel on the same
rows, weights and learning rate, and reports the ratio (the issue's target: within 1.25x).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np


def _compile() -> Any:
    from backproplab.fast.kernel_cache import njit
    from backproplab.fast.shared_kernels import add_scaled_rows

    @njit(cache=True, fastmath=False)
    def floor_epoch(X, order, theta, out, g, lr, z, nz, nzval):  # noqa: ANN001, ANN202
        """For each example: nonzero pixels, z = sum_i x_i W1[i] over them, W1[i] -= lr x_i g. W1 is ``theta``
        ``(D * out,)`` row-major; returns the sum of z[0] over the examples (kept so the forward is not removed)."""
        zero = theta.dtype.type(0.0)
        check = 0.0
        w1 = theta.reshape((X.shape[1], out))
        for t in range(order.shape[0]):
            x = X[order[t]]
            nnz = 0
            for i in range(x.shape[0]):  # branch-free, as in the engine
                nz[nnz] = i
                nzval[nnz] = x[i]
                nnz += x[i] != zero
            z[:] = zero
            add_scaled_rows(z, w1, nz, nzval, 0, nnz)
            check += z[0]
            for q in range(nnz):
                i = nz[q]
                xv = x[i]
                ws = theta[i * out : (i + 1) * out]
                for j in range(out):
                    ws[j] = ws[j] - lr * (xv * g[j])
        return check

    return floor_epoch


def measure_floor(
    X: np.ndarray, W1: np.ndarray, lr: float = 0.01, repeats: int = 5, seed: int = 0, engine_epoch: Any = None
) -> dict[str, Any]:
    """Median time per example of `floor_epoch` over ``X`` (file order), and, when ``engine_epoch`` is given (a
    callable running the fast engine over the same rows and returning ``(wall, cpu)`` seconds), the engine's,
    timed in turns with the floor; wall time and this process's CPU time (steadier on a shared machine) alike.
    The weights start from ``W1`` ``(D, hidden)`` every repeat."""
    from backproplab.fast.aligned import aligned_zeros

    floor_epoch = _compile()
    X = np.ascontiguousarray(X, dtype=W1.dtype)
    order = np.arange(len(X), dtype=np.int64)
    hidden = W1.shape[1]
    g, z = aligned_zeros(hidden, W1.dtype), aligned_zeros(hidden, W1.dtype)  # every buffer on cache lines
    g[:] = np.random.default_rng(seed).standard_normal(hidden) * 0.01
    nz, nzval = aligned_zeros(X.shape[1], np.int64), aligned_zeros(X.shape[1], W1.dtype)
    floor_epoch(X[:10], order[:10], W1.reshape(-1).copy(), hidden, g, W1.dtype.type(lr), z, nz, nzval)  # compile / load
    floor_times: list[tuple[float, float]] = []
    engine_times: list[tuple[float, float]] = []
    for _ in range(repeats):
        theta = aligned_zeros(W1.size, W1.dtype)  # rows on cache lines, as the engine packs them
        theta[:] = W1.reshape(-1)
        started, cpu = time.perf_counter(), time.process_time()
        floor_epoch(X, order, theta, hidden, g, W1.dtype.type(lr), z, nz, nzval)
        floor_times.append((time.perf_counter() - started, time.process_time() - cpu))
        if engine_epoch is not None:
            engine_times.append(engine_epoch())
    n = len(X)
    result: dict[str, Any] = {
        "rows": n,
        "hidden": hidden,
        "mean_nonzero_pixels": float(np.count_nonzero(X) / n),
        "floor_weight_bytes_per_step": float(np.count_nonzero(X) / n) * hidden * W1.itemsize * 2,
        "floor_seconds": floor_times,
        **_per_step("floor", floor_times, n),
    }
    if engine_times:
        result["engine_seconds"] = engine_times
        result.update(_per_step("engine", engine_times, n))
        result["engine_over_floor"] = result["engine_us_per_step"] / result["floor_us_per_step"]
        result["engine_over_floor_cpu"] = result["engine_cpu_us_per_step"] / result["floor_cpu_us_per_step"]
        result["engine_over_floor_best"] = result["engine_best_us_per_step"] / result["floor_best_us_per_step"]
    return result


def _per_step(name: str, times: list[tuple[float, float]], n: int) -> dict[str, float]:
    """Medians, and the fastest repeat (``_best``): on a shared machine other processes evict the weights from
    the core's caches at random moments, which only ever adds time."""
    wall = statistics.median(t for t, _ in times)
    cpu = statistics.median(c for _, c in times)
    return {
        f"{name}_us_per_step": 1e6 * wall / n,
        f"{name}_cpu_us_per_step": 1e6 * cpu / n,
        f"{name}_best_us_per_step": 1e6 * min(t for t, _ in times) / n,
        f"{name}_steps_per_second": n / wall,
    }


def fast_engine_epoch(X: np.ndarray, y: np.ndarray, params: Any, lr: float) -> Any:
    """A callable that trains the benchmark network (784-256-10 sigmoid, softmax-CE, SGD ``lr``) from ``params``
    for one batch-1 epoch over ``(X, y)`` in file order through the fast engine's kernel, and returns its
    ``(wall, cpu)`` seconds (building the trainer, which packs the weights, is not timed)."""
    from backproplab.fast import FastTrainer
    from backproplab.nn import SoftmaxCrossEntropy, mlp
    from backproplab.optim import SGD

    def epoch() -> tuple[float, float]:
        W1, b1, W2, b2 = params
        model = mlp([W1.shape[0], W1.shape[1], W2.shape[1]], "sigmoid", seed=0)
        model[0].set_weights(W1, b1)
        model[2].set_weights(W2, b2)
        trainer = FastTrainer(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=lr), [], X, y, 1)
        started, cpu = time.perf_counter(), time.process_time()
        trainer.run_epoch(None)
        return time.perf_counter() - started, time.process_time() - cpu

    return epoch
