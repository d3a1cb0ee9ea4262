"""Run directories as a format: typed reads and writes, locks with holders and takeovers, leftovers of killed
writers cleaned up, and a full disk or an unwritable runs directory reported with what was kept."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from backproplab._io import atomic_write_text, remove_stale_temps
from backproplab._lock import DirLock, LockedError
from backproplab.cli.main import main
from backproplab.rundir import RunDir, RunDirError, SweepDir
from cli_errors import assert_cli_error

SPIRAL = [
    "train",
    "--dataset",
    "spiral",
    "--hidden",
    "8",
    "--epochs",
    "3",
    "--batch-size",
    "30",
    "--no-report",
    "--tracker",
    "none",
]
HOLD = (
    "import sys, time; from backproplab._lock import DirLock; "
    "lock = DirLock(sys.argv[1], what='test directory').acquire(); print('held', flush=True); time.sleep(120)"
)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@contextlib.contextmanager
def _holder(lock_path: Path) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lock_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(30)


def test_a_lock_held_by_a_live_process_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with _holder(path) as proc:
        with pytest.raises(LockedError, match=rf"the test directory is in use by process {proc.pid} on "):
            DirLock(path, what="test directory").acquire()
        started = time.monotonic()
        with pytest.raises(LockedError, match=r"\(waited 0.3 s\)"):
            DirLock(path, what="test directory", timeout=0.3).acquire()
        assert time.monotonic() - started >= 0.3
    # killed (SIGKILL) while holding it: the kernel released the lock, the file still names the dead holder
    with DirLock(path, what="test directory") as lock:
        assert lock.took_over and lock.previous["pid"] == proc.pid
        assert lock.takeover_note() == (
            f"note: the test directory was left locked by process {proc.pid}, which is no longer running; taken over"
        )
    assert not path.exists()  # a clean release leaves no file behind
    with DirLock(path, what="test directory") as lock:
        assert not lock.took_over


def test_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / f".metrics.json.{_dead_pid()}.abc123.tmp"
    live = tmp_path / f".model.npz.{os.getpid()}.def456.tmp"
    other = tmp_path / "notes.tmp"
    for p in (dead, live, other):
        p.write_text("x")
    assert remove_stale_temps(tmp_path) == [dead]
    assert live.exists() and other.exists()
    atomic_write_text(tmp_path / "a.txt", "whole")  # and a normal write leaves no temporary behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "a.txt"])


def test_typed_reads_and_writes_of_a_finished_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [path] = list(tmp_path.iterdir())
    run = RunDir(path)
    assert RunDir.is_run_dir(path) and RunDir.is_finished(path) and run.status() == "complete"
    assert run.read_config()["data"]["dataset"] == "spiral"
    history = run.read_history()
    assert len(history) == 3 and history.records == run.read_metrics()["epochs"]
    assert run.read_summary()["epochs_run"] == 3 and run.read_summary()["status"] == "complete"
    assert [p.value.shape for p in run.read_model().parameters()] == [(2, 8), (8,), (8, 3), (3,)]
    assert run.read_confusion()["classes"] == ["arm 0", "arm 1", "arm 2"]
    assert not run.has(RunDir.CHECKPOINT)  # a complete run needs no checkpoint
    assert {p.name for p in run.files()} == {
        "config.toml",
        "metrics.csv",
        "metrics.json",
        "model.npz",
        "summary.json",
        "confusion.json",
        "misclassified.npz",
    }
    (path / RunDir.SUMMARY).write_text("{ half")
    with pytest.raises(RunDirError, match=r"summary.json: not valid JSON"):
        run.read_summary()
    with pytest.raises(RunDirError, match=r"not a finished run directory \(summary.json is missing\)"):
        RunDir(tmp_path / "nothing").read_summary()
    assert SweepDir(tmp_path).read_trials() == []


def test_an_unwritable_runs_directory_says_nothing_was_written(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the directory immutable instead
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(blocked)]).returncode != 0:
            pytest.skip("running as root without chattr +i on this file system: no way to make a directory unwritable")
    else:
        blocked.chmod(0o555)
    try:
        result = CliRunner().invoke(main, [*SPIRAL, "--runs-dir", str(blocked / "runs")])
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(blocked)], check=True)
        blocked.chmod(0o755)
    assert_cli_error(
        result,
        1,
        f"cannot create a run directory under {blocked / 'runs'}: ",
        "nothing was written. Choose another place with --runs-dir or $BACKPROPLAB_RUNS",
    )
    assert not list(blocked.iterdir())


def _limit_file_size(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))  # writes beyond it fail as on a full disk
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (EFBIG instead of the default kill)


@pytest.mark.needs_data("fashion-mnist")
def test_a_full_disk_says_what_was_kept_and_the_run_resumes_once_there_is_room(tmp_path: Path) -> None:
    cli = str(Path(sys.executable).parent / "backproplab")
    args = [
        "train",
        "--dataset",
        "fashion-mnist",
        "--limit-train",
        "500",
        "--limit-test",
        "100",
        "--hidden",
        "32",
        "--epochs",
        "2",
        "--batch-size",
        "50",
        "--no-report",
        "--tracker",
        "none",
        "--runs-dir",
        str(tmp_path),
    ]
    full = subprocess.run(
        [cli, *args], capture_output=True, text=True, timeout=120, preexec_fn=lambda: _limit_file_size(20_000)
    )  # room for the small files only
    assert full.returncode == 1, full.stdout + full.stderr
    [path] = list(tmp_path.iterdir())
    message = full.stderr.strip().splitlines()[-1]
    assert message.startswith(f"Error: could not write model.npz in {path}: File too large [OSError]. Kept: ")
    assert "config.toml" in message and "metrics.json" in message and "Traceback" not in full.stderr
    summary = json.loads((path / RunDir.SUMMARY).read_text())
    assert summary["status"] == "error" and "File too large" in summary["error"]
    # a temporary file the failed write left is removed when the directory is used again
    [(path / f".model.npz.{_dead_pid()}.x.tmp").write_text("partial")]
    done = subprocess.run(
        [cli, "resume", str(path), "--no-report", "--tracker", "none", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert RunDir(path).status() == "complete" and not [p for p in path.iterdir() if p.suffix == ".tmp"]
    reference = subprocess.run(
        [cli, *args[:-1], str(tmp_path / "reference")], capture_output=True, text=True, timeout=120
    )
    assert reference.returncode == 0
    [ref] = list((tmp_path / "reference").iterdir())
    assert RunDir(ref).read_summary()["final"] == RunDir(path).read_summary()["final"]
