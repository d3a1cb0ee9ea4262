"""`backproplab ui`: the URL is printed only once the server answers, requests are not logged unless asked, and the
server's processes end with the command (SIGTERM, as Ctrl-C would). Needs the full mlflow package (the 'ui' extra)."""

from __future__ import annotations

import importlib.util
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

if importlib.util.find_spec("flask") is None or importlib.util.find_spec("mlflow") is None:
    pytest.skip("the MLflow UI needs the 'ui' extra (pip install -e '.[ui]')", allow_module_level=True)

pytestmark = pytest.mark.slow
READY_SECONDS = 240.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == parent and int(entry.name) not in found:
                    found.add(int(entry.name))
                    todo.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_ui_says_its_url_when_it_answers_and_ends_with_its_processes(tmp_path: Path) -> None:
    from backproplab.tracking.mlflow_backend import MlflowTracker

    MlflowTracker(f"sqlite:///{tmp_path / 'mlflow.db'}").experiment_id("ui-test")
    port = free_port()
    cli = Path(sys.executable).parent / "backproplab"
    proc = subprocess.Popen(
        [str(cli), "ui", "--runs-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=READY_SECONDS)
        url = f"http://127.0.0.1:{port}"
        assert first.startswith(f"MLflow UI for {(tmp_path / 'mlflow.db').resolve()} on {url} (ready in "), first
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:  # it answers once it said so
            assert response.status == 200
        for path in ("/", "/ajax-api/2.0/mlflow/experiments/search?max_results=10"):
            with urllib.request.urlopen(url + path, timeout=30) as response:
                assert response.status == 200
        time.sleep(1.0)
        assert lines.empty(), [lines.get() for _ in range(lines.qsize())]  # no request log lines
        server = children(proc.pid)
        assert server, "the server runs as a child of the command"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 30
        while any(alive(p) for p in server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(p) for p in server) and not listening(port)
    finally:
        if proc.poll() is None:
            proc.kill()
