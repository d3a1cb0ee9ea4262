"""How a CLI test checks an error: the exact exit status and message, handled by the CLI (no traceback)."""

from __future__ import annotations

from typing import Any


def assert_cli_error(result: Any, exit_code: int, *messages: str) -> None:
    """A `CliRunner` result of a command that refused its input or failed cleanly: click handled the error (it
    ended in ``SystemExit``; an exception escaping the command would be ``result.exception`` instead, which
    CliRunner catches, so its output never shows a traceback), with exactly ``exit_code`` (1 a library error,
    2 invalid input: see `backproplab.cli.common`) and every one of ``messages`` in the output."""
    assert isinstance(result.exception, SystemExit), f"not handled by the CLI: {result.exception!r}\n{result.output}"
    assert result.exit_code == exit_code, f"exit status {result.exit_code}, expected {exit_code}:\n{result.output}"
    for message in messages:
        assert message in result.output, f"{message!r} not in:\n{result.output}"
