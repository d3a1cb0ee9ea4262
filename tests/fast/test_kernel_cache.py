"""`fast.kernel_cache`: a change to any file of backproplab.fast reaches every cached kernel.

The end-to-end tests copy the package to a temporary directory, add a caller kernel and the kernel it calls in two
files of the copy's ``fast/`` (as `example_kernel` calls `shared_kernels`), run the caller in fresh processes,
change only the callee's file and run it again. With numba's own ``njit(cache=True)`` the second run still returns
the old callee's result (the bug this module fixes); with `kernel_cache.njit` it returns the new one.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("numba")

import backproplab.fast  # noqa: E402
from backproplab.fast import kernel_cache  # noqa: E402

SOURCE = Path(backproplab.__file__).resolve().parent
NUMBA = "from numba import njit"
KEYED = "from .kernel_cache import njit"
CALLER = "{decorator}\nfrom .probe_callee import value\n\n\n@njit(cache=True)\ndef probe(x):\n    return value(x) + 1\n"
CALLEE = "{decorator}\n\n\n@njit(cache=True)\ndef value(x):\n    return x * {factor}\n"
RUN = """
import json
import backproplab
from backproplab.fast.probe_caller import probe
stats = getattr(probe, "stats", None)
print(json.dumps({"package": backproplab.__file__, "value": probe(2.0),
                  "hits": sum(stats.cache_hits.values()) if stats else None}))
"""


def make_copy(tmp_path: Path, decorator: str = KEYED) -> Path:
    """A copy of the backproplab package under ``tmp_path/site`` with the probe kernels in its ``fast/``."""
    site = tmp_path / "site"
    shutil.copytree(SOURCE, site / "backproplab", ignore=shutil.ignore_patterns("__pycache__"))
    set_factor(site, decorator, 10.0)
    (site / "backproplab" / "fast" / "probe_caller.py").write_text(CALLER.format(decorator=decorator))
    return site


def set_factor(site: Path, decorator: str, factor: float) -> None:
    (site / "backproplab" / "fast" / "probe_callee.py").write_text(CALLEE.format(decorator=decorator, factor=factor))


def run_probe(site: Path, **env: str) -> dict:
    """Run the probe in a fresh process on the copy: its result, cache hits and which package it imported."""
    return json.loads(finish(start_probe(site, **env))[0])


def start_probe(site: Path, **env: str) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_") and k != "PYTHONPATH"}
    clean.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(site.parent / "xdg"), **env)
    pipe = subprocess.PIPE
    return subprocess.Popen([sys.executable, "-c", RUN], env=clean, cwd=site, stdout=pipe, stderr=pipe, text=True)


def finish(process: subprocess.Popen) -> tuple[str, str]:
    """The probe's (stdout, stderr) within 120 s; a probe still running then is killed, so none outlives the test."""
    try:
        return process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def cache_indexes(root: Path) -> list[Path]:
    return sorted(root.rglob("*.nbi")) if root.exists() else []


def test_source_digest_covers_every_python_file_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 2\n")
    first = kernel_cache.source_digest(tmp_path)
    (tmp_path / "notes.txt").write_text("not source")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert kernel_cache.source_digest(tmp_path) == first
    (tmp_path / "b.py").write_text("B = 3\n")  # same size, other content
    assert kernel_cache.source_digest(tmp_path) != first
    (tmp_path / "b.py").write_text("B = 2\n")
    assert kernel_cache.source_digest(tmp_path) == first
    (tmp_path / "c.py").write_text("")
    assert kernel_cache.source_digest(tmp_path) != first
    (tmp_path / "c.py").unlink()
    (tmp_path / "b.py").rename(tmp_path / "d.py")  # same contents under another name
    assert kernel_cache.source_digest(tmp_path) != first


def test_the_digest_is_that_of_the_installed_fast_sources() -> None:
    assert kernel_cache.DIGEST == kernel_cache.source_digest(Path(backproplab.fast.__file__).parent)


def test_numba_alone_keeps_an_old_callee_in_a_cached_caller(tmp_path: Path) -> None:
    """The bug, reproduced with numba's own decorator: if this fails, numba now checks the callees' files itself."""
    site = make_copy(tmp_path, decorator=NUMBA)
    assert run_probe(site)["value"] == 21.0
    set_factor(site, NUMBA, 100.0)
    assert run_probe(site)["value"] == 21.0  # stale: the new callee would give 201


def test_a_change_to_another_fast_file_alone_reaches_the_cached_caller(tmp_path: Path) -> None:
    site = make_copy(tmp_path)
    first = run_probe(site)
    assert Path(first["package"]).is_relative_to(site)
    assert (first["value"], first["hits"]) == (21.0, 0)
    assert run_probe(site)["hits"] == 1  # cached: the second process loads the caller from disk
    set_factor(site, KEYED, 100.0)
    assert run_probe(site)["value"] == 201.0
    pycache = site / "backproplab" / "fast" / "__pycache__"
    keyed = sorted(p.name for p in pycache.glob(f"{kernel_cache.PREFIX}*"))
    assert len(keyed) == 2  # one directory per version of the sources, the older kept (used within a day)
    assert all(cache_indexes(pycache / name) for name in keyed)
    assert list(pycache.glob("*.nbi")) == []  # nothing in numba's own, unkeyed place


def test_a_users_numba_cache_dir_is_kept_and_keyed_and_old_directories_go(tmp_path: Path) -> None:
    site = make_copy(tmp_path)
    user = tmp_path / "user-cache"
    unused = user / f"{kernel_cache.PREFIX}0000000000000000"
    recent = user / f"{kernel_cache.PREFIX}1111111111111111"
    other = user / "someone-elses"
    for directory in (unused, recent, other):
        directory.mkdir(parents=True)
    two_days_ago = time.time() - 2 * 24 * 3600
    for directory in (unused, other):
        os.utime(directory, (two_days_ago, two_days_ago))
    assert run_probe(site, NUMBA_CACHE_DIR=str(user))["value"] == 21.0
    set_factor(site, KEYED, 100.0)
    assert run_probe(site, NUMBA_CACHE_DIR=str(user))["value"] == 201.0
    keyed = sorted(user.glob(f"{kernel_cache.PREFIX}*"))
    assert unused not in keyed and recent in keyed and other.exists()
    assert [len(cache_indexes(d)) for d in keyed if d != recent] == [2, 2]  # probe and value, each version
    assert cache_indexes(site / "backproplab" / "fast" / "__pycache__") == []


def test_a_read_only_package_caches_in_the_user_cache_directory(tmp_path: Path) -> None:
    site = make_copy(tmp_path)
    (site / "backproplab" / "fast" / "__pycache__").write_text("")  # a file: no directory can be made there
    assert run_probe(site)["value"] == 21.0
    set_factor(site, KEYED, 100.0)
    assert run_probe(site)["value"] == 201.0
    assert len(list((tmp_path / "xdg" / "backproplab").glob(f"{kernel_cache.PREFIX}*"))) == 2
    assert cache_indexes(tmp_path / "xdg" / "numba") == []  # numba's own user-wide place stays unused


def test_with_nowhere_to_write_the_kernels_compile_every_time_with_a_warning(tmp_path: Path) -> None:
    site = make_copy(tmp_path)
    (site / "backproplab" / "fast" / "__pycache__").write_text("")
    (tmp_path / "xdg").write_text("")
    process = start_probe(site)
    out, err = finish(process)
    assert json.loads(out)["value"] == 21.0
    assert "cannot be cached on disk" in err and "NUMBA_CACHE_DIR" in err
    assert cache_indexes(tmp_path) == []


def test_two_processes_at_once_share_the_directory(tmp_path: Path) -> None:
    site = make_copy(tmp_path)
    both = [start_probe(site), start_probe(site)]
    try:
        results = [json.loads(finish(p)[0]) for p in both]
    finally:
        for p in both:  # the second, should the first time out
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert [r["value"] for r in results] == [21.0, 21.0]
    assert run_probe(site)["hits"] == 1
    assert not list(site.rglob("*.tmp.*"))  # no half-written cache file left behind


def test_disable_jit_runs_the_python_functions_and_makes_no_directory(tmp_path: Path) -> None:
    site = make_copy(tmp_path)
    result = run_probe(site, NUMBA_DISABLE_JIT="1")
    assert (result["value"], result["hits"]) == (21.0, None)
    assert list(tmp_path.rglob(f"{kernel_cache.PREFIX}*")) == []


def test_every_fast_module_takes_njit_from_kernel_cache() -> None:
    """A kernel decorated by numba's own njit would be cached where a change to a file it calls goes unseen."""
    fast = Path(backproplab.fast.__file__).parent
    direct = [
        f.name
        for f in sorted(fast.glob("*.py"))
        for node in ast.walk(ast.parse(f.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "numba" and any(a.name == "njit" for a in node.names)
        if f.name != "kernel_cache.py"
    ]
    assert direct == []


def test_a_decoration_waits_for_the_cache_setting_only_so_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_cache, "DECORATING_TIMEOUT", 0.05)
    kernel_cache._DECORATING.acquire()  # another thread in the middle of a decoration that never ends
    try:
        with pytest.raises(RuntimeError, match="waited 0.05 s to decorate .*held numba's cache setting"):
            kernel_cache.njit(cache=True)(lambda x: x)
    finally:
        kernel_cache._DECORATING.release()
    assert kernel_cache.njit(cache=True)(lambda x: x + 1)(1) == 2  # released: decorates and runs
