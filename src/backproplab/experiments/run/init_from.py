"""``model.init_from``: start a run from saved weights instead of a fresh initialisation.

The value may be
- a ``model.npz`` file (written by `backproplab.nn.save_model`),
- a run directory (its ``model.npz``) or a sweep directory (the retrained model, else the best trial's),
- a preset name: the latest complete run of that preset under the runs directory, of the same variant (a
  ``--quick`` run only reuses ``--quick`` runs and vice versa).

A run never starts another run: when a preset named here has no complete run yet, `backproplab.lab` runs it
first, before the run or sweep that needs it (`preset_prerequisites` lists what a config needs). Inside a run,
`resolve_init_from` only looks up the model file; the run's ``summary.json`` records it as ``init_from`` (its
``config.toml`` keeps the value as given). `load_initial_weights` copies the saved Dense weights into the new
model layer by layer; the architectures must agree (activations and dropout come from the new config).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ...errors import BackproplabError, ConfigError
from ...nn import Dense, Sequential, load_model
from ...rundir import COMPLETE, RunDir, SweepDir, default_runs_dir, summary_status
from ..config import RunConfig
from ..presets import preset_names


def model_file(path: Path) -> Path:
    """The ``model.npz`` a file, run directory or sweep directory stands for; `ConfigError` if there is none."""
    if path.is_file():
        return path
    run = RunDir(path)
    if run.has(RunDir.MODEL):
        return run.model_path
    if SweepDir.is_finished(path):
        sweep = SweepDir(path)
        try:
            summary = sweep.read_summary()
        except BackproplabError:
            summary = {}
        if summary.get("retrain") and sweep.run(summary["retrain"]).has(RunDir.MODEL):
            return sweep.run(summary["retrain"]).model_path
        best = summary.get("best")
        if best and sweep.trial(best).has(RunDir.MODEL):
            return sweep.trial(best).model_path
    raise ConfigError(
        f"model.init_from: {path} holds no {RunDir.MODEL} (expected a model file, a finished run "
        "directory or a sweep directory)"
    )


def load_initial_weights(model: Sequential, path: str | Path) -> None:
    """Copy the Dense weights saved at ``path`` into ``model``'s Dense layers, in order (shapes must agree)."""
    saved = load_model(model_file(Path(path)))
    src = [m for m in saved.layers if isinstance(m, Dense)]
    dst = [m for m in model.layers if isinstance(m, Dense)]
    shapes_src = [tuple(m.weight.shape) for m in src]
    shapes_dst = [tuple(m.weight.shape) for m in dst]
    if shapes_src != shapes_dst:
        raise ConfigError(
            f"model.init_from: {path} holds Dense layers of shapes {shapes_src}; this config's model "
            f"needs {shapes_dst} (same model.hidden and dataset expected)"
        )
    for s, d in zip(src, dst, strict=True):
        d.set_weights(s.weight.value, None if s.bias is None else s.bias.value)


def latest_run(runs_dir: Path, name: str, variant: str) -> Path | None:
    """The newest complete run directory (or finished sweep directory) of preset ``name`` and ``variant``."""
    found = []
    for summary_path in runs_dir.glob(f"*/{RunDir.SUMMARY}"):
        run = RunDir(summary_path.parent)
        try:
            summary = run.read_summary()
            run_variant = run.read_config().get("variant", "full")
        except BackproplabError:
            continue
        if (
            summary.get("name") == name
            and summary_status(summary) == COMPLETE
            and run_variant == variant
            and run.has(RunDir.MODEL)
        ):
            found.append((summary_path.stat().st_mtime, run.path))
    for summary_path in runs_dir.glob(f"{name}-sweep*/{SweepDir.SUMMARY}"):
        try:
            sweep_variant = SweepDir(summary_path.parent).read_spec().get("config", {}).get("variant", "full")
        except BackproplabError:
            continue
        if sweep_variant == variant:
            found.append((summary_path.stat().st_mtime, summary_path.parent))
    return max(found)[1] if found else None


def runs_root(runs_dir: str | Path | None, run_dir: str | Path | None = None) -> Path:
    """Where ``init_from`` looks for runs of a named preset.

    ``runs_dir`` when given; else, for a run written into ``run_dir``, the directory holding it, or for a sweep's
    trial (``<sweep>/trials/<id>``) or retrain (``<sweep>/retrain``) the directory holding the sweep; else the
    default runs directory.
    """
    if runs_dir is not None:
        return Path(runs_dir)
    if run_dir is None:
        return default_runs_dir()
    path = Path(run_dir).resolve()
    if path.parent.name == SweepDir.TRIALS and SweepDir.is_sweep_dir(path.parent.parent):
        return path.parent.parent.parent
    if SweepDir.is_sweep_dir(path.parent):
        return path.parent.parent
    return path.parent


def names_preset(spec: str | None) -> bool:
    """Whether an ``init_from`` value is a preset name (not an existing file or directory)."""
    return spec is not None and not Path(spec).expanduser().exists() and spec in preset_names()


def preset_prerequisites(configs: Iterable[RunConfig], runs_dir: Path) -> list[tuple[str, str]]:
    """``(preset, variant)`` pairs that ``configs`` initialise from and that have no complete run under
    ``runs_dir`` yet (each once, in order of first use)."""
    missing: list[tuple[str, str]] = []
    for config in configs:
        spec = config.model.init_from
        key = (str(spec), config.variant)
        if names_preset(spec) and key not in missing and latest_run(runs_dir, *key) is None:
            missing.append(key)
    return missing


def resolve_init_from(
    config: RunConfig, runs_dir: str | Path | None = None, *, say: Callable[[str], None] = print
) -> RunConfig:
    """``config`` with ``model.init_from`` replaced by the absolute path of the model file it stands for (a
    preset name is looked up under ``runs_dir``, see `runs_root`; it must have a complete run by now)."""
    spec = config.model.init_from
    if spec is None:
        return config
    path = Path(spec).expanduser()
    if not path.exists():
        if spec not in preset_names():
            raise ConfigError(
                f"model.init_from: {spec!r} is neither an existing file or directory nor a preset "
                f"name (presets: {', '.join(preset_names())})"
            )
        root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        found = latest_run(root, spec, config.variant) if root.is_dir() else None
        if found is None:
            raise ConfigError(
                f"model.init_from = {spec!r}: no complete {config.variant} run of that preset under "
                f"{root}; run it first (`backproplab run {spec}"
                f"{' --quick' if config.variant == 'quick' else ''}`; the run and sweep commands "
                "do this for you)"
            )
        path = found
    resolved = model_file(path).resolve()
    say(f"  initial weights from {resolved}")
    return config.model_copy(update={"model": config.model.model_copy(update={"init_from": str(resolved)})})
