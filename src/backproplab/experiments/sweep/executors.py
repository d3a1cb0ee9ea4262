"""Where sweep trials run: in this process, a local process pool, a Dask cluster or Ray.

Every executor offers the `concurrent.futures` interface (``submit`` returning a Future), so the sweep loop is
the same for all; each also has ``interrupt()``, which the sweep calls on Ctrl-C or SIGTERM: queued trials are
cancelled and running ones are asked to stop (process-pool workers get SIGTERM and checkpoint at their next step
boundary; Dask futures are cancelled; Ray tasks are cancelled). Each trial runs
`backproplab.experiments.sweep.worker.run_trial` and writes its own run directory; the workers must therefore see
the sweep directory (the same machine, or a shared file system for a remote Dask/Ray cluster). Workers that this
sweep started (the process pool, a local Dask cluster or Ray) watch the sweep's process and end with it.

Numerics are single-threaded while several trials run at once: the process pool starts its workers with
OMP/OPENBLAS/MKL/NUMBA thread counts of 1 (Dask's nanny does the same for its workers by default), so two
trials on two cores do not fight over four BLAS threads, and a trial computes the same bits wherever it runs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from ..._environ import environ
from ..._text import did_you_mean
from ...errors import ConfigError
from .worker import init_pool_worker

EXECUTORS = ("process", "dask", "ray", "serial")
DASK_CONNECT_TIMEOUT = "10s"
STOP_WAIT_SECONDS = 90.0  # how long interrupt() waits for running trials to checkpoint before killing them
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def _thread_env() -> contextlib.AbstractContextManager[None]:
    """The thread-count variables at 1 while worker processes start (they read them at import)."""
    return environ({k: "1" for k in THREAD_VARS})


class SerialExecutor(Executor):
    """Runs each task when it is submitted, in this process (debugging, or one core)."""

    owns_workers = False

    def __init__(self) -> None:
        self._stopped = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        if self._stopped:
            future.cancel()
            return future
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def interrupt(self) -> None:
        self._stopped = True  # the running trial saw the signal itself


class ProcessExecutor(ProcessPoolExecutor):
    """A pool of spawned worker processes that watch this process (`worker.init_pool_worker`)."""

    owns_workers = True

    def __init__(self, workers: int) -> None:
        super().__init__(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_pool_worker,
            initargs=(os.getpid(),),
        )

    def worker_pids(self) -> list[int]:
        return [p.pid for p in list((self._processes or {}).values()) if p.pid is not None]

    def interrupt(self) -> None:
        """Cancel queued trials; SIGTERM each worker (a running trial checkpoints at its next step boundary,
        then its worker exits); wait for them (at most `STOP_WAIT_SECONDS`), then kill what is left."""
        processes = list((self._processes or {}).values())
        self.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            with contextlib.suppress(OSError, ValueError):
                if p.is_alive():
                    os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for p in processes:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                p.join(max(0.0, deadline - time.monotonic()))
                if p.is_alive():
                    p.kill()
                    p.join(5)


class DaskExecutor(Executor):
    """`distributed`'s executor; ``interrupt`` cancels every submitted future (queued and running)."""

    def __init__(self, executor: Any, owns_workers: bool) -> None:
        self._executor = executor
        self.owns_workers = owns_workers

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def interrupt(self) -> None:
        self._executor.shutdown(wait=False)  # client.cancel(every future)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait and not cancel_futures)


class RayExecutor(Executor):
    """Tasks as Ray remote functions (one CPU each); ``address`` None starts a local Ray."""

    def __init__(self, address: str | None, workers: int | None) -> None:
        import ray

        self._ray = ray
        self._refs: list[Any] = []
        self._started = not ray.is_initialized()
        self.owns_workers = self._started and not address
        if self._started:
            options: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
            ray.init(include_dashboard=False, log_to_driver=False, **options)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        ref = self._ray.remote(num_cpus=1)(fn).remote(*args, **kwargs)
        self._refs.append(ref)
        return ref.future()

    def interrupt(self) -> None:
        for ref in self._refs:  # a running task gets a KeyboardInterrupt: it checkpoints like on Ctrl-C
            with contextlib.suppress(Exception):
                self._ray.cancel(ref)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._started:  # a Ray that was running before is not ours to stop
            self._ray.shutdown()


def default_workers() -> int:
    return os.cpu_count() or 1


def check_executor(kind: str, *, address: str | None = None, workers: int | None = None) -> None:
    """Raise ConfigError for an unknown executor or options it does not take."""
    if kind not in EXECUTORS:
        raise ConfigError(f"executor: expected one of {list(EXECUTORS)}; got {kind!r}{did_you_mean(kind, EXECUTORS)}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers: expected a number >= 1; got {workers}")
    if address and kind not in ("dask", "ray"):
        raise ConfigError(f"--address is for the dask and ray executors; got executor {kind!r}")


class LazyExecutor(Executor):
    """`open_executor(kind, ...)` opened at the first ``submit`` (a resumed sweep with nothing left to run
    starts no pool or cluster); use it as a context manager. ``restart()`` closes a broken pool so that the
    next ``submit`` opens a new one (after a worker died)."""

    def __init__(self, kind: str, *, address: str | None = None, workers: int | None = None) -> None:
        check_executor(kind, address=address, workers=workers)
        self.kind, self._options = kind, {"address": address, "workers": workers}
        self._stack = contextlib.ExitStack()
        self._executor: Any = None

    @property
    def owns_workers(self) -> bool:
        """Whether the workers were started for this sweep (then they watch this process)."""
        if self._executor is None:
            return self.kind != "serial" and not self._options["address"]
        return bool(getattr(self._executor, "owns_workers", False))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._executor is None:
            self._executor = self._stack.enter_context(open_executor(self.kind, **self._options))
        return self._executor.submit(fn, *args, **kwargs)

    def interrupt(self) -> None:
        if self._executor is not None:
            self._executor.interrupt()

    def restart(self) -> None:
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self._executor = None

    def __exit__(self, *exc: Any) -> bool:
        return bool(self._stack.__exit__(*exc))


@contextlib.contextmanager
def open_executor(kind: str = "process", *, address: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """An executor of ``kind`` (see `EXECUTORS`), shut down on exit.

    ``process``: a `ProcessExecutor` of ``workers`` (default: cores) spawned processes.
    ``dask``: `distributed.Client(address).get_executor()`; without ``address`` a LocalCluster of ``workers``
    single-threaded worker processes. ``ray``: Ray remote functions. ``serial``: this process, one at a time.
    """
    check_executor(kind, address=address, workers=workers)
    if kind == "serial":
        yield SerialExecutor()
    elif kind == "process":
        with _thread_env():
            pool = ProcessExecutor(workers or default_workers())
            try:
                yield pool
            except BaseException:  # an error in the sweep loop: drop the queued trials
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
            raise ConfigError(
                f"could not reach the Dask scheduler at {address}: {exc}; start one with "
                f"`dask scheduler` and workers with `dask worker {address}`"
            ) from None
        with client, client.get_executor(pure=False) as executor:
            yield DaskExecutor(executor, owns_workers=False)
        return
    with (
        _thread_env(),
        LocalCluster(
            n_workers=workers or default_workers(), threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        with Client(cluster) as client, client.get_executor(pure=False) as executor:
            yield DaskExecutor(executor, owns_workers=True)
