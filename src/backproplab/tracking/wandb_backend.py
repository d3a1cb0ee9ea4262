"""Weights & Biases backend (``wandb`` extra): offline unless the user configured W&B (WANDB_MODE / API key)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import BackproplabError
from .records import RunRecord, epoch_metrics


def wandb_mode() -> str | None:
    """``"offline"`` unless the user chose a mode (``WANDB_MODE``) or set up an API key; None: W&B decides."""
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY"):
        return None
    return "offline"


class WandbTracker:
    """One W&B run per `RunRecord`: config = the nested run config, ``run.log(..., step=epoch)`` per epoch,
    final metrics in the run summary, provenance as tags and summary entries, the run directory's files as one
    artifact. W&B has no nested runs: children of a sweep share ``group`` = the sweep's name."""

    kind = "wandb"

    def __init__(self, directory: Path, experiment: str | None = None) -> None:
        try:
            import wandb
        except ImportError as exc:
            raise BackproplabError(
                "the W&B tracker needs wandb: pip install 'backproplab[wandb]' "
                f"(or use --tracker mlflow / none); import failed: {exc}"
            ) from None
        self.wandb = wandb
        self.directory = Path(directory)
        self.experiment = experiment
        self._groups: dict[str, str] = {}
        self._live: dict[str, tuple[Any, int]] = {}  # key -> (run, last epoch logged)

    def describe(self) -> str:
        mode = wandb_mode() or os.environ.get("WANDB_MODE") or "online"
        return f"W&B ({mode}; files under {self.directory / 'wandb'})"

    def close(self) -> None:
        """Wait until W&B's background service has written every logged run to disk."""
        self.wandb.teardown()

    def _init(self, record: RunRecord, parent: str | None) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True)
        tags = [
            record.tags.get(k, "")
            for k in ("backproplab.preset", "backproplab.engine", "backproplab.status", "backproplab.kind")
        ]
        return self.wandb.init(
            project=re.sub(r"[^A-Za-z0-9_.-]+", "-", record.experiment),
            name=record.name,
            group=self._groups.get(parent or "", record.name if parent is None else None),
            job_type=record.tags.get("backproplab.kind", "run"),
            config=record.config,
            tags=[t[:64] for t in tags if t],
            notes=record.description or None,
            dir=str(self.directory),
            mode=wandb_mode(),
            settings=self.wandb.Settings(silent=True, console="off"),
        )

    def open_run(self, record: RunRecord, *, parent: str | None = None) -> str:
        """Start the W&B run of ``record.key`` while it trains (config now, metrics as epochs end); `log_run`
        with the same key finishes it (this tracker object only: W&B runs are not found again by key)."""
        run = self._init(record, parent)
        self._live[record.key] = (run, 0)
        return str(run.id)

    def logged_epochs(self, run_id: str) -> int:
        return next((n for run, n in self._live.values() if run.id == run_id), 0)

    def log_epochs(self, run_id: str, epochs: list[dict[str, Any]]) -> None:
        for key, (run, logged) in self._live.items():
            if run.id == run_id:
                for epoch in epochs:
                    if int(epoch["epoch"]) > logged:
                        run.log(epoch_metrics(epoch), step=int(epoch["epoch"]))
                        logged = int(epoch["epoch"])
                self._live[key] = (run, logged)

    def log_run(self, record: RunRecord, *, parent: str | None = None) -> str:
        run, logged = self._live.pop(record.key, (None, 0))
        run = run or self._init(record, parent)
        try:
            for epoch in record.epochs:
                if int(epoch["epoch"]) > logged:
                    run.log(epoch_metrics(epoch), step=int(epoch["epoch"]))
            summary: dict[str, Any] = dict(record.final)
            summary.update({k: v for k, v in record.tags.items() if k.startswith(("backproplab.", "git"))})
            run.summary.update(summary)
            if record.artifacts:
                artifact = self.wandb.Artifact(re.sub(r"[^A-Za-z0-9_.-]+", "-", record.name), type="run")
                for path in record.artifacts:
                    artifact.add_file(str(path))
                run.log_artifact(artifact)
        finally:
            run.finish(exit_code=1 if record.status == "error" else 0)
        if parent is None:
            self._groups[run.id] = record.name
        return str(run.id)
