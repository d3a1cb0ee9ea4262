"""The loaders never crash: 2,200 malformed IDX, .npy, CIFAR-10 and model files (tests/data/loader_fuzz.py) either load
with valid results or raise one of backproplab's own errors, each within a bounded time.

The cases are the same on every run (derandomized, no example database); scripts/fuzz_loaders.py runs 20,000
random ones.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from loader_fuzz import FORMATS, cases, fuzz_settings, run_case

CASES_PER_FORMAT = 550


@pytest.mark.parametrize("fmt", FORMATS)
def test_malformed_files_load_or_raise_a_library_error(fmt: str, tmp_path: Path) -> None:
    outcomes: Counter[str] = Counter()

    @fuzz_settings(CASES_PER_FORMAT, derandomize=True)
    @given(case=cases[fmt])
    def check(case: tuple) -> None:
        files, scale, validation_size = case
        outcome = run_case(fmt, files, scale, validation_size, tmp_path)
        outcomes[outcome.kind] += 1
        assert outcome.kind != "bug", f"{fmt} case raised {outcome.error}"

    check()
    assert sum(outcomes.values()) >= CASES_PER_FORMAT
    # the cases reach both ends: most files are refused, and some mutations leave a loadable file
    assert outcomes["library error"] > CASES_PER_FORMAT // 2 and outcomes["loaded"] > 0, outcomes
