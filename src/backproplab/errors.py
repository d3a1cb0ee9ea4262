"""Exceptions that name what was wrong and what was expected."""

from __future__ import annotations


class BackproplabError(Exception):
    """Base class of every error backproplab raises on purpose."""


class DatasetError(BackproplabError, ValueError):
    """A data file is missing, corrupt, truncated or inconsistent; the message names the file."""


class ConfigError(BackproplabError, ValueError):
    """A configuration value is invalid; the message names the key, the allowed values and what was given."""


class ShapeError(BackproplabError, ValueError):
    """An array does not have the shape a module or loss expects."""


class EngineError(BackproplabError, ValueError):
    """``engine="fast"`` was asked for a run the fast engine cannot train; the message names each reason."""


class ModelFileError(BackproplabError, ValueError):
    """A saved model file is missing, corrupt, truncated or not a backproplab model; the message names the file."""


class ResourceError(BackproplabError):
    """A request needs more memory than this machine has available; the message gives both sizes."""


class BackendError(BackproplabError, ValueError):
    """A backend or device cannot be used here (torch missing, no CUDA, arrays on different devices)."""


def brief(exc: BaseException, limit: int = 160) -> str:
    """A third-party exception as one short line for a message (some quote whole file headers)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "..."
