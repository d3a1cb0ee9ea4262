"""Shared fixtures (small real slices of Fashion-MNIST and MNIST, loaded once per session) and what some tests need.

Tests that need a data set, torch or Chromium carry a marker (registered in pyproject.toml):
``@pytest.mark.needs_data("fashion-mnist")``, ``@pytest.mark.needs_torch``, ``@pytest.mark.needs_browser``; the
fixtures that load data or open the browser add theirs. When what a test needs is missing, it is skipped with the
reason and how to install it (``pytest -m "not needs_browser"`` leaves such tests out on purpose). The README's
test command (`bash scripts/test.sh`, so CI) installs everything and sets ``BACKPROPLAB_REQUIRE_ALL=1``: then a
missing need stops the session at its start instead, so nothing is skipped silently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backproplab.data import Dataset, load_dataset
from headless_browser import BrowserResult, check_page
from needs import DATA_FIXTURES, INSTALL_HINT, REQUIRE_ALL, browser_missing, dataset_missing, torch_missing

# Screenshots and other files a person may want to look at after a run (git-ignored).
TEST_ARTIFACTS = Path(
    os.environ.get("BACKPROPLAB_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """With BACKPROPLAB_REQUIRE_ALL=1 (scripts/test.sh, CI): everything the markers name must be present."""
    if REQUIRE_ALL:
        problems = [p for p in (*map(dataset_missing, INSTALL_HINT), torch_missing(), browser_missing()) if p]
        if problems:
            raise pytest.UsageError(
                "BACKPROPLAB_REQUIRE_ALL=1 (scripts/test.sh, CI), so no test may be skipped "
                "for want of these:\n  " + "\n  ".join(problems)
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The markers of what a test's fixtures need."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for name in sorted({DATA_FIXTURES[f] for f in fixtures & DATA_FIXTURES.keys()}):
            item.add_marker(pytest.mark.needs_data(name))
        if "browser_check" in fixtures:
            item.add_marker(pytest.mark.needs_browser)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, with the reason, a test whose data set, torch or browser is missing."""
    problems = [dataset_missing(name) for mark in item.iter_markers("needs_data") for name in mark.args]
    if item.get_closest_marker("needs_torch"):
        problems.append(torch_missing())
    if item.get_closest_marker("needs_browser"):
        problems.append(browser_missing())
    problems = [p for p in problems if p]
    if problems:
        pytest.skip("; ".join(problems))


def require_dataset(name: str, **kwargs: Any) -> Dataset:
    """`load_dataset(name, **kwargs)`; skips the test, saying how to install the data, if they are missing."""
    problem = dataset_missing(name)
    if problem:
        pytest.skip(problem)
    return load_dataset(name, **kwargs)


@pytest.fixture(scope="session")
def load_or_skip() -> Callable[..., Dataset]:
    """`require_dataset` for tests that need other slices or options than the fixtures below."""
    return require_dataset


@pytest.fixture(scope="session")
def fashion_train() -> Dataset:
    """The first 5,000 Fashion-MNIST training images, scaled to [0, 1]."""
    return require_dataset("fashion-mnist", split="train", limit=5000)


@pytest.fixture(scope="session")
def fashion_test() -> Dataset:
    """The first 2,000 Fashion-MNIST test images, scaled to [0, 1]."""
    return require_dataset("fashion-mnist", split="test", limit=2000)


@pytest.fixture(scope="session")
def fashion_small(fashion_train: Dataset) -> Dataset:
    """The first 600 training images: enough for the trainer's mechanics, fast at any batch size."""
    return fashion_train.take(600)


@pytest.fixture(scope="session")
def mnist_train() -> Dataset:
    """All 60,000 MNIST training images (the pickle's 50k train + 10k validation), in [0, 1)."""
    return require_dataset("mnist", split="train")


@pytest.fixture(scope="session")
def mnist_test() -> Dataset:
    return require_dataset("mnist", split="test")


@pytest.fixture(autouse=True)
def _no_tracking_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs in tests log to no experiment store unless the test passes --tracker (tests/tracking/)."""
    monkeypatch.setenv("BACKPROPLAB_TRACKER", "none")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)


@pytest.fixture
def restore_global_numpy_rng() -> Any:
    """For tests that seed NumPy's global generator (as course code does): put its state back afterwards."""
    state = np.random.get_state()  # noqa: NPY002 (the global generator is the point)
    yield
    np.random.set_state(state)  # noqa: NPY002


SCREENSHOTS: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List the screenshots the browser tests kept, so a person can look at the rendered reports."""
    if SCREENSHOTS:
        terminalreporter.write_sep("-", "browser screenshots")
        for shot in SCREENSHOTS:
            terminalreporter.write_line(str(shot))


@pytest.fixture
def browser_check(request: pytest.FixtureRequest) -> Callable[..., BrowserResult]:
    """``browser_check(html_path, name=None) -> BrowserResult``: open the page in headless Debian Chromium,
    decode every image, collect console errors, and keep a full-page screenshot in ``test-artifacts/<name>.png``
    (path printed). Tests using it are marked ``needs_browser``: skipped, saying how to install it, without
    Chromium."""

    def check(html_path: str | Path, name: str | None = None) -> BrowserResult:
        shot = TEST_ARTIFACTS / f"{name or re.sub(r'[^A-Za-z0-9_.-]+', '-', request.node.name)}.png"
        try:
            result = check_page(html_path, shot)
        except FileNotFoundError as exc:
            pytest.fail(str(exc), pytrace=False)
        print(f"browser screenshot of {html_path}: {shot}")
        SCREENSHOTS.append(shot)
        return result

    return check
