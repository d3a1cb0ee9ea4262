"""`serve_ui`: the MLflow UI for a local store, as a child process that ends with this one.

The server (``mlflow server``, which starts uvicorn) runs in its own process group: Ctrl-C or SIGTERM here ends the
whole group (SIGTERM, then SIGKILL after `STOP_SECONDS`), and on Linux the server is also told when this process
dies by any other means (``PR_SET_PDEATHSIG``), so no server outlives the command. Its URL is printed only once
it answers (``/health``); its request logs are shown only when asked (``verbose``), else its output goes to a log
file whose tail is printed if it fails to start.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import BackproplabError
from .base import ARTIFACTS_DIR

READY_SECONDS = 180.0  # the longest a server may take to answer (first start on a slow, busy machine)
POLL_SECONDS = 0.2
STOP_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux); elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def check_ui_installed() -> None:
    if importlib.util.find_spec("mlflow") is None or importlib.util.find_spec("flask") is None:
        raise BackproplabError(
            "the MLflow UI needs the full mlflow package: pip install 'backproplab[ui]' "
            "(the 'track' extra has only the client)"
        )


def check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise BackproplabError(f"port {port} on 127.0.0.1 is in use; choose another with --port") from None


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether ``url`` answers HTTP 200 within ``timeout``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a local http URL
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def server_command(store: Path, port: int, verbose: bool) -> list[str]:
    artifacts = store.parent / ARTIFACTS_DIR
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{store}",
        "--default-artifact-root",
        artifacts.as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    if not verbose:
        command += ["--uvicorn-opts", "--no-access-log --log-level warning"]
    return command


@contextlib.contextmanager
def _group_ends_with_us(proc: subprocess.Popen[Any]) -> Iterator[None]:
    """SIGINT and SIGTERM here end ``proc``'s process group; so does leaving the block in any way."""

    def stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        stop_group(proc)


def stop_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM to ``proc``'s process group, SIGKILL after `STOP_SECONDS` if it is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(STOP_SECONDS)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # uvicorn's worker, if it outlived the server process
            return
        except subprocess.TimeoutExpired:
            continue


def serve_ui(
    store: str | Path,
    port: int = 5000,
    *,
    verbose: bool = False,
    say: Callable[[str], None] = print,
    ready_seconds: float = READY_SECONDS,
) -> int:
    """Run the MLflow UI for the SQLite store ``store`` on http://127.0.0.1:PORT until Ctrl-C or SIGTERM (or the
    server ends); returns the exit status (0 after Ctrl-C). Says the URL once the server answers."""
    check_ui_installed()
    store = Path(store).resolve()
    if not store.is_file():
        raise BackproplabError(
            f"no MLflow store at {store}; run something first (backproplab run fashion-sgd "
            "--quick logs to it) or pass --runs-dir DIR (the store is DIR/mlflow.db)"
        )
    check_port_free(port)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            server_command(store, port, verbose),
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            stdin=subprocess.DEVNULL,
            stdout=None if verbose else log,
            stderr=None if verbose else subprocess.STDOUT,
        )
        started = time.monotonic()
        url = f"http://127.0.0.1:{port}"
        try:
            with _group_ends_with_us(proc):
                while not answers(f"{url}/health"):
                    if proc.poll() is not None or time.monotonic() - started > ready_seconds:
                        log.seek(0)
                        tail = "".join(log.readlines()[-15:]).rstrip()
                        raise BackproplabError(
                            f"the MLflow server did not start (exit status {proc.poll()} after "
                            f"{time.monotonic() - started:.0f} s)" + (f"; its last output:\n{tail}" if tail else "")
                        )
                    time.sleep(POLL_SECONDS)
                say(f"MLflow UI for {store} on {url} (ready in {time.monotonic() - started:.1f} s; Ctrl-C to stop)")
                return proc.wait()
        except KeyboardInterrupt:
            return 0
