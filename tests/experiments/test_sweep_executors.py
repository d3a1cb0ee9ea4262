"""The same sweep on a real local Dask cluster, the process pool and in-process gives bit-identical trials."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import wait
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.errors import ConfigError
from backproplab.experiments.sweep import executors, open_executor, parse_sweep, run_sweep
from backproplab.nn import load_model

distributed = pytest.importorskip("distributed", reason="the dask extra (in the test extra) is not installed")

# Fashion-MNIST slices: real images, so every trial does real matrix products (where thread counts could
# change the rounding); 500 training rows, 2 epochs, 2 learning rates x 2 seeds = 4 trials.
SWEEP = {
    "name": "fashion-tiny",
    "config": {
        "data": {"dataset": "fashion-mnist", "limit_train": 500, "limit_test": 200},
        "model": {"hidden": [32], "activation": "relu", "init": "he_uniform"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "training": {"epochs": 2, "batch_size": 20, "shuffle": True, "eval": ["test"]},
    },
    "search": {"space": {"optimizer.lr": [0.01, 0.05]}},
    "selection": {"metric": "test_loss", "seeds": [0, 1]},
}


SPIRAL_SWEEP = {
    "config": {
        "data": {"dataset": "spiral", "scale": "none"},
        "model": {"hidden": [16], "activation": "relu"},
        "training": {"epochs": 3, "batch_size": 30, "shuffle": True},
    },
    "search": {"space": {"optimizer.lr": [0.01, 0.1]}},
    "selection": {"seeds": [0, 1]},
}


def trials(sweep_dir: Path) -> list[dict]:
    return json.loads((sweep_dir / "trials.json").read_text())


def weights(run_dir: Path) -> list[np.ndarray]:
    return [p.value for p in load_model(run_dir / "model.npz").parameters()]


@pytest.mark.slow
def test_dask_cluster_process_pool_and_serial_give_identical_trials(tmp_path, fashion_small):
    sweep = parse_sweep(SWEEP)
    pool = run_sweep(sweep, sweep_dir=tmp_path / "pool", executor="process", workers=2)
    with distributed.LocalCluster(
        host="127.0.0.1", processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with distributed.Client(cluster) as client:
            dask = run_sweep(sweep, sweep_dir=tmp_path / "dask", executor="dask", address=cluster.scheduler_address)
            # and through the command line, as docs/sweeps.md tells
            path = tmp_path / "fashion-tiny.toml"
            path.write_text(tomli_w.dumps({"kind": "sweep", **SWEEP}))
            out = CliRunner().invoke(
                main,
                [
                    "sweep",
                    str(path),
                    "--executor",
                    "dask",
                    "--address",
                    cluster.scheduler_address,
                    "--dir",
                    str(tmp_path / "cli"),
                    "--no-report",
                ],
            )
            assert out.exit_code == 0, out.output
            assert "on the dask executor" in out.output and "4 ok, 0 diverged, 0 failed" in out.output
            # the trials really ran in the cluster's worker processes
            worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
    serial = run_sweep(sweep, sweep_dir=tmp_path / "serial", executor="serial")
    runs = {"pool": pool, "dask": dask, "serial": serial}
    for name, result in runs.items():
        assert [t["status"] for t in result.trials] == ["ok"] * 4, name
        assert result.summary["executor"] == name if name != "pool" else "process"
    reference = trials(tmp_path / "pool")
    assert len({t["final"]["test_loss"] for t in reference}) == 4  # the trials differ from each other
    assert [t["final"] for t in trials(tmp_path / "cli")] == [t["final"] for t in reference]
    for name in ("dask", "serial"):
        other = trials(tmp_path / name)
        assert [t["final"] for t in other] == [t["final"] for t in reference], name  # bit-identical floats
        assert [t["selection"] for t in other] == [t["selection"] for t in reference], name
        assert runs[name].summary["best"] == pool.summary["best"]
        for t in reference:
            for a, b in zip(
                weights(tmp_path / "pool" / t["run_dir"]), weights(tmp_path / name / t["run_dir"]), strict=True
            ):
                np.testing.assert_array_equal(a, b)
    assert len(worker_pids) == 2


def test_executor_options_are_checked(monkeypatch):
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ConfigError, match="executor: expected one of"), open_executor("threads"):
        pass
    with (
        pytest.raises(ConfigError, match="--address is for the dask and ray executors"),
        open_executor("process", address="tcp://127.0.0.1:1"),
    ):
        pass
    with (
        pytest.raises(ConfigError, match="could not reach the Dask scheduler at tcp://127.0.0.1:9"),
        open_executor("dask", address="tcp://127.0.0.1:9"),
    ):
        pass


def test_process_pool_workers_run_single_threaded_numerics():
    before = {k: os.environ.get(k) for k in executors.THREAD_VARS}
    with open_executor("process", workers=1) as pool:
        seen = pool.submit(os.getenv, "OPENBLAS_NUM_THREADS").result(), pool.submit(os.getenv, "OMP_NUM_THREADS")
        assert seen[0] == "1" and seen[1].result() == "1"
    assert {k: os.environ.get(k) for k in executors.THREAD_VARS} == before  # this process is left as it was


@pytest.mark.slow
def test_ray_gives_the_same_trials_as_the_process_pool(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    sweep = parse_sweep({**SPIRAL_SWEEP, "name": "spiral-ray"})
    ray_run = run_sweep(sweep, sweep_dir=tmp_path / "ray", executor="ray", workers=2)
    serial = run_sweep(sweep, sweep_dir=tmp_path / "serial", executor="serial")
    assert [t["status"] for t in ray_run.trials] == ["ok"] * 4
    assert [t["final"] for t in ray_run.trials] == [t["final"] for t in serial.trials]
    import ray

    assert not ray.is_initialized()  # the local Ray it started is stopped again


@pytest.mark.slow
def test_dask_futures_are_cancelled_on_interrupt():
    """A stop request cancels the queued and the running futures of a local Dask cluster at once."""
    with open_executor("dask", workers=1) as pool:
        running, queued = pool.submit(time.sleep, 60), pool.submit(time.sleep, 60)
        started = time.monotonic()
        pool.interrupt()
        done, _ = wait([running, queued], timeout=30)
        assert done == {running, queued} and running.cancelled() and queued.cancelled()
        assert time.monotonic() - started < 30
