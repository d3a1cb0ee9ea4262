"""``model.init_from``: start a run from saved weights instead of a fresh initialisation.

The value may be
- a ``model.npz`` file (written by `backproplab.nn.save_model`),
- a run directory (its ``model.npz``) or a sweep directory (the retrained model, else the best trial's),
- a preset name: the latest finished, non-diverged run of that preset under the runs directory, of the same
  variant (a ``--quick`` run only reuses ``--quick`` runs and vice versa); when there is none, the preset is run
  first (once: concurrent runs wait on a lock file in the runs directory).

`resolve_init_from` (called by `run_experiment`) turns the value into the absolute path of the ``model.npz``
used; the run's ``summary.json`` records it as ``init_from`` (its ``config.toml`` keeps the value as given).
`load_initial_weights` copies the saved Dense weights into the new model layer by layer; the architectures must
agree (activations and dropout come from the new config).
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
    for summary in runs_dir.glob(f"{name}-sweep*/sweep_summary.json"):
        try:
            sweep_variant = read_toml(summary.parent / "sweep.toml").get("config", {}).get("variant", "full")
        except ConfigError:
            continue
        if sweep_variant == variant:
            found.append((summary.stat().st_mtime, summary.parent))
    return max(found)[1] if found else None


def runs_root(runs_dir: str | Path | None, run_dir: str | Path | None = None) -> Path:
    """Where ``init_from`` looks for (and puts) runs of a named preset.

    ``runs_dir`` when given; else, for a run written into ``run_dir``, the directory holding it, or for a sweep's
    trial (``<sweep>/trials/<id>``) or retrain (``<sweep>/retrain``) the directory holding the sweep; else the
    default runs directory.
    """
    if runs_dir is not None:
        return Path(runs_dir)
    if run_dir is None:
        return default_runs_dir()
    path = Path(run_dir).resolve()
    if path.parent.name == "trials" and (path.parent.parent / "sweep.toml").is_file():
        return path.parent.parent.parent
    if (path.parent / "sweep.toml").is_file():
        return path.parent.parent
    return path.parent


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
    """``config`` with ``model.init_from`` replaced by the absolute path of the model file it stands for
    (a preset name is looked up under ``runs_dir``, see `runs_root`)."""
    from .presets import preset_names

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
                path = _run_preset(spec, config.variant, root, say)
    resolved = model_file(path).resolve()
    say(f"  initial weights from {resolved}")
    return config.model_copy(update={"model": config.model.model_copy(update={"init_from": str(resolved)})})


def _run_preset(name: str, variant: str, root: Path, say: Callable[[str], None]) -> Path:
    from .config import apply_quick
    from .presets import load_any
    from .runner import run_experiment

    say(f"  model.init_from = {name!r}: no finished {variant} run of it under {root}; running it first")
    config = load_any(name)
    if isinstance(config, RunConfig):
        return run_experiment(apply_quick(config) if variant == "quick" else config, runs_dir=root, verbose=0).run_dir
    from .sweep import apply_quick_sweep, run_sweep

    sweep = apply_quick_sweep(config) if variant == "quick" else config
    # serial: this may already run inside a sweep's worker process
    return run_sweep(sweep, runs_dir=root, executor="serial").sweep_dir
