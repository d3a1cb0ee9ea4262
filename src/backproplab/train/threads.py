"""How many threads NumPy's BLAS uses while `fit` trains: a given number, or ``"auto"``, measured.

Why measured: a multi-threaded BLAS call splits its matrix product between threads and returns when the
slowest part is done. On an idle machine two threads make large products nearly twice as fast; on a machine
whose cores are busy with other work, the second thread waits to be scheduled at every call, and training
becomes many times slower (docs/performance.md has the figures). ``"auto"`` times the run's own largest product
with each candidate thread count, interleaved, and keeps the fastest (fewer threads on a near tie); products
too small to be worth splitting run on one thread without measuring.

The thread count can change the last bits of a product (OpenBLAS splits work differently), so the count a run
used is recorded (``History.params["threads"]``): pass it explicitly to repeat a run bit for bit.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

Threads = int | str | None

AUTO = "auto"
# Below this many multiply-adds (e.g. a batch-32 step of a 784-256 layer is 6.4 million) a product takes tens
# of microseconds, where a second thread's start-up and hand-over cost about as much as they save.
MIN_AUTO_MACS = 4_000_000
_ROUNDS = 5
_BLOCK_SECONDS = 0.003
_NEAR_TIE = 0.9  # more threads must be at least 10% faster to be chosen
_REMEMBER_SECONDS = 60.0  # fits started within a minute on the same product reuse the measurement
_measured: dict[tuple[Any, ...], tuple[float, int]] = {}


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_threads(threads: Threads) -> Threads:
    """``threads`` if it is None, ``"auto"`` or a positive int; else a ValueError saying what is allowed."""
    if threads is None or threads == AUTO:
        return threads
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or int(threads) < 1:
        raise ValueError(f"threads: expected a positive integer or 'auto'; got {threads!r}")
    return int(threads)


def measure_fastest(
    m: int, k: int, n: int, dtype: Any = np.float32, candidates: tuple[int, ...] | None = None, seed: int = 0
) -> int:
    """The thread count among ``candidates`` (default: 1, 2, 4, ... up to the CPUs available, and that number)
    whose ``(m, k) @ (k, n)`` product of ``dtype`` is fastest now.

    Candidates are timed in turns (``_ROUNDS`` rounds of a few milliseconds each, so a busy spell of the machine
    hits all of them); the median per candidate decides, and a larger count must beat a smaller one by 10%.
    """
    from threadpoolctl import threadpool_limits

    if candidates is None:
        cpus = available_cpus()
        candidates = tuple(sorted({*(2**i for i in range(cpus.bit_length()) if 2**i <= cpus), cpus}))
    if len(candidates) == 1 or m * k * n < MIN_AUTO_MACS:
        return min(candidates)
    rng = np.random.default_rng(seed)
    a = rng.random((m, k)).astype(dtype)
    b = rng.random((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)
    calls = {}
    for c in candidates:  # warm-up, and how many products make one block
        with threadpool_limits(limits=c, user_api="blas"):
            started = time.perf_counter()
            np.matmul(a, b, out=out)
            calls[c] = max(1, min(50, int(_BLOCK_SECONDS / max(time.perf_counter() - started, 1e-7))))
    times: dict[int, list[float]] = {c: [] for c in candidates}
    for _ in range(_ROUNDS):
        for c in candidates:
            with threadpool_limits(limits=c, user_api="blas"):
                started = time.perf_counter()
                for _ in range(calls[c]):
                    np.matmul(a, b, out=out)
                times[c].append((time.perf_counter() - started) / calls[c])
    best = min(candidates)
    best_time = statistics.median(times[best])
    for c in sorted(candidates):
        t = statistics.median(times[c])
        if c > best and t < _NEAR_TIE * best_time:
            best, best_time = c, t
    return best


def largest_product(params: Any, batch_size: int) -> tuple[int, int, int]:
    """``(m, k, n)`` of a training step's largest forward product: batch rows times the biggest 2-D parameter."""
    shapes = [tuple(p.shape) for p in params if len(p.shape) == 2]
    k, n = max(shapes, key=lambda s: s[0] * s[1], default=(0, 0))
    return int(batch_size), int(k), int(n)


def resolve_threads(threads: Threads, m: int = 0, k: int = 0, n: int = 0, dtype: Any = np.float32) -> int | None:
    """None stays None (leave the BLAS pools as they are); an int is used as given; ``"auto"`` is measured on
    the product ``(m, k) @ (k, n)`` (see `measure_fastest`; a measurement of the same product less than a
    minute old is reused)."""
    threads = check_threads(threads)
    if threads is None or isinstance(threads, int):
        return threads
    key = (m, k, n, np.dtype(dtype).str)
    now = time.monotonic()
    if key in _measured and now - _measured[key][0] < _REMEMBER_SECONDS:
        return _measured[key][1]
    fastest = measure_fastest(m, k, n, dtype)
    _measured[key] = (now, fastest)
    return fastest


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Hold NumPy's BLAS (and every other BLAS loaded) to ``threads`` threads inside the block (None: unchanged)."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield
