"""Type-check src/ with mypy against a baseline that only shrinks.

    .venv/bin/python scripts/typecheck.py            # fail (exit 1) on any error not in the baseline
    .venv/bin/python scripts/typecheck.py --update   # rewrite the baseline from today's errors

The baseline (scripts/mypy_baseline.txt) holds one line per known error as "FILE: [CODE] MESSAGE", without line
numbers, so edits elsewhere in a file do not disturb it; an error that occurs twice in a file is listed twice. A
new error fails the check and is printed with its line number. A fixed error only prints a note: remove its line
(or run --update) so it cannot come back unnoticed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scripts" / "mypy_baseline.txt"
# "src/x.py:12: error: Message  [code]" (mypy's default output with --show-error-codes)
ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*?)\s+\[(?P<code>[a-z0-9-]+)\]$")
LINE_NUMBER_IN_MESSAGE = re.compile(r"\bline \d+\b")


def run_mypy() -> list[tuple[str, str]]:
    """mypy's errors on src/ as (baseline key, the line as mypy printed it)."""
    result = subprocess.run([sys.executable, "-m", "mypy", "src"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"mypy failed to run (exit status {result.returncode})")
    errors = []
    for line in result.stdout.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            message = LINE_NUMBER_IN_MESSAGE.sub("line N", match["message"])
            errors.append((f"{Path(match['file']).as_posix()}: [{match['code']}] {message}", line))
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline from today's errors")
    args = parser.parse_args()
    errors = run_mypy()
    today = Counter(key for key, _ in errors)
    if args.update:
        BASELINE.write_text("".join(f"{key}\n" for key in sorted(today.elements())), encoding="utf-8")
        print(f"[typecheck] baseline written: {sum(today.values())} known error(s) in {BASELINE.relative_to(ROOT)}")
        return 0
    baseline = Counter(BASELINE.read_text(encoding="utf-8").splitlines()) if BASELINE.exists() else Counter()
    new = today - baseline
    fixed = baseline - today
    if fixed:
        print(
            f"[typecheck] {sum(fixed.values())} baseline error(s) no longer occur; remove them from "
            f"{BASELINE.relative_to(ROOT)} (or run scripts/typecheck.py --update):"
        )
        for key in sorted(fixed.elements()):
            print(f"  {key}")
    if new:
        print(f"[typecheck] {sum(new.values())} new mypy error(s) (not in {BASELINE.relative_to(ROOT)}):")
        for key, line in errors:
            if new[key] > 0:
                print(f"  {line}")
        print("[typecheck] fix them, or if one is truly intended, add a '# type: ignore[CODE]' with the reason")
        return 1
    print(f"[typecheck] mypy: no new errors ({sum(today.values())} known, baseline {sum(baseline.values())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
