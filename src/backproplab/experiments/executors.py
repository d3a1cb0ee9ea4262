"""Where sweep trials run: in this process, a local process pool, a Dask cluster or Ray.

Every executor offers the `concurrent.futures` interface (``submit`` returning a Future), so the sweep loop is
the same for all. Each trial runs `run_trial` (a top-level function, importable by name on every worker) and
writes its own run directory; the workers must therefore see the sweep directory (the same machine, or a
shared file system for a remote Dask/Ray cluster).

Numerics are single-threaded while several trials run at once: the process pool starts its workers with
OMP/OPENBLAS/MKL/NUMBA thread counts of 1 (Dask's nanny does the same for its workers by default), so two
trials on two cores do not fight over four BLAS threads, and a trial computes the same bits wherever it runs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from ..errors import ConfigError

EXECUTORS = ("process", "dask", "ray", "serial")
DASK_CONNECT_TIMEOUT = "10s"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def run_trial(config: dict[str, Any], run_dir: str) -> dict[str, Any]:
    """Train one trial into ``run_dir``; never raises: a failure comes back as ``status = "error"``.

    Returns ``status`` ("ok" | "diverged" | "error"), ``error``, ``final``, ``epochs_run``, ``best_epoch``
    and ``seconds`` (wall time of the trial).
    """
    started = time.perf_counter()
    try:
        from .config import parse_config
        from .runner import run_experiment

        with _single_threaded():
            result = run_experiment(parse_config(config), run_dir=run_dir, verbose=0)
        summary = result.summary
        return {"status": "diverged" if summary["diverged"] else "ok",
                "error": summary["stop_reason"] if summary["diverged"] else None,
                "final": summary["final"], "epochs_run": summary["epochs_run"],
                "best_epoch": summary.get("best_epoch"), "seconds": time.perf_counter() - started}
    except Exception as exc:  # the sweep records it and goes on with the other trials
        last = traceback.extract_tb(exc.__traceback__)[-1:] or None
        where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}{where}", "final": {},
                "epochs_run": 0, "best_epoch": None, "seconds": time.perf_counter() - started}


@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """Limit the BLAS/OpenMP pools already loaded to one thread (the serial executor runs in this process,
    whose BLAS started with the machine's thread count)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@contextlib.contextmanager
def _thread_env() -> Iterator[None]:
    """Set the thread-count variables to 1 while worker processes start (they read them at import)."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class SerialExecutor(Executor):
    """Runs each task when it is submitted, in this process (debugging, or one core)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class RayExecutor(Executor):
    """Tasks as Ray remote functions (one CPU each); ``address`` None starts a local Ray."""

    def __init__(self, address: str | None, workers: int | None) -> None:
        import ray

        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            options: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
            ray.init(include_dashboard=False, log_to_driver=False, **options)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._ray.remote(num_cpus=1)(fn).remote(*args, **kwargs).future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._started:  # a Ray that was running before is not ours to stop
            self._ray.shutdown()


def default_workers() -> int:
    return os.cpu_count() or 1


def check_executor(kind: str, *, address: str | None = None, workers: int | None = None) -> None:
    """Raise ConfigError for an unknown executor or options it does not take."""
    if kind not in EXECUTORS:
        raise ConfigError(f"executor: expected one of {list(EXECUTORS)}; got {kind!r}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers: expected a number >= 1; got {workers}")
    if address and kind not in ("dask", "ray"):
        raise ConfigError(f"--address is for the dask and ray executors; got executor {kind!r}")


class LazyExecutor(Executor):
    """`open_executor(kind, ...)` opened at the first ``submit`` (a resumed sweep with nothing left to run
    starts no pool or cluster); use it as a context manager."""

    def __init__(self, kind: str, *, address: str | None = None, workers: int | None = None) -> None:
        check_executor(kind, address=address, workers=workers)
        self.kind, self._options = kind, {"address": address, "workers": workers}
        self._stack = contextlib.ExitStack()
        self._executor: Executor | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._executor is None:
            self._executor = self._stack.enter_context(open_executor(self.kind, **self._options))
        return self._executor.submit(fn, *args, **kwargs)

    def __exit__(self, *exc: Any) -> bool:
        return bool(self._stack.__exit__(*exc))


@contextlib.contextmanager
def open_executor(kind: str = "process", *, address: str | None = None,
                  workers: int | None = None) -> Iterator[Executor]:
    """An executor of ``kind`` (see `EXECUTORS`), shut down on exit.

    ``process``: a `ProcessPoolExecutor` of ``workers`` (default: cores) spawned processes.
    ``dask``: `distributed.Client(address).get_executor()`; without ``address`` a LocalCluster of ``workers``
    single-threaded worker processes. ``ray``: Ray remote functions. ``serial``: this process, one at a time.
    """
    check_executor(kind, address=address, workers=workers)
    if kind == "serial":
        yield SerialExecutor()
    elif kind == "process":
        with _thread_env():
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=context)
            try:
                yield pool
            except BaseException:  # Ctrl-C or an error in the sweep loop: drop the queued trials
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
    elif kind == "dask":
        with _dask_executor(address, workers) as executor:
            yield executor
    else:
        try:
            executor = RayExecutor(address, workers)
        except ImportError:
            raise ConfigError("the ray executor needs Ray: pip install 'backproplab[ray]'") from None
        with executor:
            yield executor


@contextlib.contextmanager
def _dask_executor(address: str | None, workers: int | None) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("the dask executor needs Dask: pip install 'backproplab[dask]'") from None
    if address:
        try:
            client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except OSError as exc:
            raise ConfigError(f"could not reach the Dask scheduler at {address}: {exc}; start one with "
                              f"`dask scheduler` and workers with `dask worker {address}`") from None
        with client, client.get_executor(pure=False) as executor:
            yield executor
        return
    with _thread_env(), LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                     processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client, client.get_executor(pure=False) as executor:
            yield executor
