"""Fuzz the loaders with many more cases than CI runs (tests/data/loader_fuzz.py has the cases and the rule).

    .venv/bin/python scripts/fuzz_loaders.py [--cases 20000] [--formats idx,npy,cifar10,model] [--seed N]

Cases are split evenly over the formats. Every case must load with valid results or raise one of backproplab's
own errors within a bounded time; any other exception (or a timeout) is a bug: its files are kept in a
directory printed at the end, and the exit status is 1. Prints, per format, the cases run, the outcomes and
the exception types seen. Nothing is written into the repository (no hypothesis database).
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

WORKDIR = Path(tempfile.mkdtemp(prefix="backproplab-fuzz-"))
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = str(WORKDIR / "hypothesis")  # hypothesis's caches: not in the repo
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))

import loader_fuzz  # noqa: E402
from hypothesis import given, seed  # noqa: E402

HARD_LIMIT_SECONDS = 120  # a case stuck where SIGALRM cannot interrupt it: dump the stacks and exit


def fuzz_format(fmt: str, count: int, rng_seed: int, workdir: Path, failures: Path) -> tuple[Counter, Counter, list]:
    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    bugs: list[str] = []

    @seed(rng_seed)
    @loader_fuzz.fuzz_settings(count)
    @given(case=loader_fuzz.cases[fmt])
    def check(case: tuple) -> None:
        files, scale, validation_size = case
        faulthandler.dump_traceback_later(HARD_LIMIT_SECONDS, exit=True)
        outcome = loader_fuzz.run_case(fmt, files, scale, validation_size, workdir, keep_failures=failures)
        faulthandler.cancel_dump_traceback_later()
        outcomes[outcome.kind] += 1
        if outcome.kind == "bug":
            bugs.append(outcome.error)
            errors[outcome.error.split(":")[0] + " (bug)"] += 1
        elif outcome.error:
            errors[outcome.error] += 1

    check()
    return outcomes, errors, bugs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000, help="total cases, split evenly over the formats")
    parser.add_argument("--formats", default=",".join(loader_fuzz.FORMATS))
    parser.add_argument("--seed", type=int, default=int(time.time()), help="hypothesis seed (printed)")
    args = parser.parse_args()
    formats = args.formats.split(",")
    per_format = -(-args.cases // len(formats))
    workdir = WORKDIR
    failures = workdir / "failures"
    failures.mkdir()
    print(f"fuzzing {per_format} cases for each of {', '.join(formats)} (seed {args.seed}); work in {workdir}")
    total: Counter[str] = Counter()
    all_bugs: list[str] = []
    for fmt in formats:
        start = time.perf_counter()
        outcomes, errors, bugs = fuzz_format(fmt, per_format, args.seed, workdir, failures)
        total.update(outcomes)
        all_bugs += bugs
        print(
            f"\n{fmt}: {sum(outcomes.values())} cases in {time.perf_counter() - start:.1f} s; "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        )
        for name, n in errors.most_common():
            print(f"  {n:6d}  {name}")
    print(f"\ntotal: {sum(total.values())} cases; " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    if all_bugs:
        print(
            f"\n{len(all_bugs)} cases raised something other than a backproplab error; their files are in {failures}:"
        )
        for bug in Counter(all_bugs).most_common(20):
            print(f"  {bug[1]:4d}  {bug[0]}")
        return 1
    shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
