"""``model.init_from``: start a run from saved weights instead of a fresh initialisation.

The value may be
- a ``model.npz`` file (written by `backproplab.nn.save_model`),
- a run directory (its ``model.npz``) or a sweep directory (the retrained model, else the best trial's),
- a preset name: the latest finished, non-diverged run of that preset under the runs directory, of the same
  variant (a ``--quick`` run only reuses ``--quick`` runs and vice versa); when there is none, the preset is run
  first (once: concurrent runs wait on a lock file in the runs directory).

`resolve_init_from` (called by `run_experiment`) turns the value into the absolute path of the ``model.npz`` used,
so the run's ``config.toml`` records exactly which weights it started from. `load_initial_weights` copies the
saved Dense weights into the new model layer by layer; the architectures must agree (activations and dropout
come from the new config).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigError
from ..nn import Dense, Sequential, load_model
from .config import RunConfig, read_toml
from .rundir import default_runs_dir

MODEL_FILE = "model.npz"


def model_file(path: Path) -> Path:
    """The ``model.npz`` a file, run directory or sweep directory stands for; `ConfigError` if there is none."""
    if path.is_file():
        return path
    if (path / MODEL_FILE).is_file():
        return path / MODEL_FILE
    summary = path / "sweep_summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text())
        if s.get("retrain") and (path / s["retrain"] / MODEL_FILE).is_file():
            return path / s["retrain"] / MODEL_FILE
        best = s.get("best")
        if best and (path / "trials" / best / MODEL_FILE).is_file():
            return path / "trials" / best / MODEL_FILE
    raise ConfigError(f"model.init_from: {path} holds no {MODEL_FILE} (expected a model file, a finished run "
                      "directory or a sweep directory)")


def load_initial_weights(model: Sequential, path: str | Path) -> None:
    """Copy the Dense weights saved at ``path`` into ``model``'s Dense layers, in order (shapes must agree)."""
    saved = load_model(model_file(Path(path)))
    src = [m for m in saved.layers if isinstance(m, Dense)]
    dst = [m for m in model.layers if isinstance(m, Dense)]
    shapes_src = [tuple(m.weight.shape) for m in src]
    shapes_dst = [tuple(m.weight.shape) for m in dst]
    if shapes_src != shapes_dst:
        raise ConfigError(f"model.init_from: {path} holds Dense layers of shapes {shapes_src}; this config's model "
                          f"needs {shapes_dst} (same model.hidden and dataset expected)")
    for s, d in zip(src, dst, strict=True):
        d.set_weights(s.weight.value, None if s.bias is None else s.bias.value)


def latest_run(runs_dir: Path, name: str, variant: str) -> Path | None:
    """The newest run directory of preset ``name`` and ``variant`` that finished without diverging."""
    found = []
    for summary in runs_dir.glob("*/summary.json"):
        try:
            s = json.loads(summary.read_text())
            run_variant = read_toml(summary.parent / "config.toml").get("variant", "full")
        except (OSError, ValueError, ConfigError):
            continue
        if s.get("name") == name and not s.get("diverged") and run_variant == variant \
                and (summary.parent / MODEL_FILE).is_file():
            found.append((summary.stat().st_mtime, summary.parent))
    sweep = runs_dir / f"{name}-sweep"
    if (sweep / "sweep_summary.json").is_file():
        found.append(((sweep / "sweep_summary.json").stat().st_mtime, sweep))
    return max(found)[1] if found else None


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, at worst the preset runs twice
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def resolve_init_from(config: RunConfig, runs_dir: str | Path | None = None, *,
                      say: Callable[[str], None] = print) -> RunConfig:
    """``config`` with ``model.init_from`` replaced by the absolute path of the model file it stands for."""
    from .presets import load_preset, preset_names

    spec = config.model.init_from
    if spec is None:
        return config
    path = Path(spec).expanduser()
    if not path.exists():
        if spec not in preset_names():
            raise ConfigError(f"model.init_from: {spec!r} is neither an existing file or directory nor a preset "
                              f"name (presets: {', '.join(preset_names())})")
        root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        with _lock(root / f".init-from-{spec}.lock"):
            path = latest_run(root, spec, config.variant) if root.is_dir() else None
            if path is None:
                path = _run_preset(spec, config.variant, root, say, load_preset)
    resolved = model_file(path).resolve()
    say(f"  initial weights from {resolved}")
    return config.model_copy(update={"model": config.model.model_copy(update={"init_from": str(resolved)})})


def _run_preset(name: str, variant: str, root: Path, say: Callable[[str], None], load_preset: Callable) -> Path:
    from .config import apply_quick
    from .runner import run_experiment

    config = load_preset(name)
    if variant == "quick":
        config = apply_quick(config)
    say(f"  model.init_from = {name!r}: no finished {variant} run of it under {root}; running it first")
    return run_experiment(config, runs_dir=root, verbose=0).run_dir
