"""Tracking never stalls or races: a refused port and a server that never answers end in a one-line warning within
seconds (the run stays complete, exit status 0); the whole tracking step is bounded; the first creation of a SQLite
store is serialised between processes; a half-built store is reported, not written into."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.rundir import RunDir
from backproplab.tracking import directories, track_run_dir
from backproplab.tracking import mlflow_backend as backend

pytest.importorskip("mlflow", reason="the tracking tests need the 'track' extra (bash scripts/test.sh installs it)")

SPIRAL = ["train", "--dataset", "spiral", "--hidden", "8", "--epochs", "2", "--batch-size", "30", "--no-report"]
BOUND = 30.0  # seconds: the most a tracking step may take (generous: the figures measured are in the report)


def _closed_port() -> int:
    with socket.socket() as s:  # a port nothing listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A local server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def _track(uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[object, float]:
    monkeypatch.setattr(backend, "HTTP_TIMEOUT_SECONDS", 2)
    started = time.monotonic()
    result = CliRunner().invoke(
        main, [*SPIRAL, "--runs-dir", str(tmp_path), "--tracker", "mlflow", "--tracking-uri", uri]
    )
    return result, time.monotonic() - started


def test_a_refused_connection_is_a_one_line_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    result, seconds = _track(uri, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert warning.startswith("warning: tracking with mlflow failed after ") and "backproplab track" in warning
    assert seconds < BOUND
    [run_dir] = [p for p in tmp_path.iterdir() if RunDir.is_finished(p)]
    assert RunDir(run_dir).status() == "complete"


def test_a_server_that_never_answers_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silent_server: str
) -> None:
    result, seconds = _track(silent_server, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning")]
    assert "Read timed out" in warning or "ReadTimeout" in warning, warning
    assert seconds < BOUND


def test_the_whole_tracking_step_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tracker that hangs (whatever the cause) is given up after TRACKING_SECONDS."""
    run = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(tmp_path), "--tracker", "none"])
    assert run.exit_code == 0, run.output
    [run_dir] = list(tmp_path.iterdir())
    never = threading.Event()
    monkeypatch.setattr(directories, "log_run_dir", lambda *a, **k: never.wait())
    monkeypatch.setattr(directories, "TRACKING_SECONDS", 0.5)
    said: list[str] = []
    assert track_run_dir(run_dir, tracker="mlflow", say=said.append) is False
    assert len(said) == 1 and said[0].startswith("warning: tracking with mlflow failed after 0.")
    assert "TrackingTimeout: no answer within 0.5 s" in said[0]
    never.set()


def test_processes_creating_one_new_store_at_once_do_not_race(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for i in range(3):
        run = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(runs), "--tracker", "none", "--name", f"r{i}"])
        assert run.exit_code == 0, run.output
    dirs = sorted(p for p in runs.iterdir() if RunDir.is_finished(p))
    cli = str(Path(sys.executable).parent / "backproplab")
    procs = [
        subprocess.Popen(
            [cli, "track", str(d), "--tracker", "mlflow"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for d in dirs
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    store = runs / "mlflow.db"
    assert backend.STORE_TABLES <= backend.store_tables(store)
    with sqlite3.connect(store) as con:
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3
    assert not (runs / ".mlflow.db.lock").exists()


def test_a_half_built_store_is_reported(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(tmp_path), "--tracker", "none"])
    [run_dir] = list(tmp_path.iterdir())
    with sqlite3.connect(tmp_path / "mlflow.db") as con:  # a creation killed after its first table
        con.execute("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name VARCHAR(256))")
    result = CliRunner().invoke(main, ["track", str(run_dir), "--tracker", "mlflow"])
    assert result.exit_code == 1
    assert "is half-built (its creation was interrupted): it lacks the tables alembic_version, metrics" in result.output
    assert f"mv {tmp_path / 'mlflow.db'}" in result.output
    # a run tracked into it keeps its directory complete, with a one-line warning
    run = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(tmp_path), "--tracker", "mlflow"])
    assert run.exit_code == 0 and "half-built" in run.stderr and len(run.stderr.strip().splitlines()) == 1
