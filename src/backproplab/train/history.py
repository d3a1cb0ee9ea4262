"""`History`: what `fit` measured, epoch by epoch (Keras-style ``history`` dict plus per-epoch records)."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings
from typing import Any

import numpy as np


class History:
    """Per-epoch metrics of one `fit` call.

    Attributes:
        history: metric name -> list with one value per epoch (``train_loss``, ``train_acc``, ``test_loss``,
            ``test_acc``, ``val_loss``, ..., ``lr``, ``iteration``, and ``train_objective`` / ``penalty`` when a
            weight penalty is used). Accuracies are fractions in [0, 1].
        records: one dict per epoch with the same metrics plus ``epoch`` (1-based), ``iteration`` (the optimizer
            steps taken by the end of that epoch, counted over the run) and ``seconds``. (Formerly ``epochs``,
            still readable as a deprecated alias; files such as ``metrics.json`` keep the key ``"epochs"``.)
        iterations, batch_losses: the training loss as training goes (`backproplab.train.iterations`): at
            iteration ``iterations[j]`` (1-based, counted over the run), ``batch_losses[j]`` is the mean of the
            batch losses since the previous point (every ``params["loss_every"]`` iterations; each batch loss
            is the mean over its batch before that step's update).
        diverged: True when training stopped because a loss or parameter became NaN or infinite.
        interrupted: True when a stop request (Ctrl-C, SIGTERM) ended training before its last epoch; the epochs
            listed are the complete ones (a checkpoint can resume the rest); ``iterations`` go up to the step
            where it stopped.
        stop_reason: why training ended early (divergence, early stopping), else None.
        engine: which training engine ran (``"fast"``, ``"numpy"`` or ``"torch"``).
        params: the settings of the run (epochs, batch_size, shuffle, seed, backend, device, ...).
    """

    def __init__(self, params: dict[str, Any] | None = None, engine: str = "numpy") -> None:
        self.history: dict[str, list[float]] = {}
        self.records: list[dict[str, Any]] = []
        self.diverged = False
        self.interrupted = False
        self.stop_reason: str | None = None
        self.engine = engine
        self.params: dict[str, Any] = dict(params or {})
        self.iterations: list[int] = []
        self.batch_losses: list[float] = []

    def append(self, record: dict[str, Any]) -> None:
        """Add one epoch's record; numeric entries (except ``epoch``) also go to ``history``."""
        self.records.append(dict(record))
        for key, value in record.items():
            if key != "epoch" and isinstance(value, int | float):
                self.history.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> list[dict[str, Any]]:
        """Deprecated name of `records` (the per-epoch records)."""
        warnings.warn("History.epochs is now History.records", DeprecationWarning, stacklevel=2)
        return self.records

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> dict[str, Any]:
        return self.records[-1] if self.records else {}

    def best(self, monitor: str, mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best finite value of ``monitor`` (min for losses, max for accuracies)."""
        values = self.history.get(monitor)
        if not values:
            raise KeyError(f"History has no metric {monitor!r}; it has {sorted(self.history)}")
        maximize = (mode == "max") or (mode == "auto" and monitor.endswith(("acc", "accuracy")))
        finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
        if not finite:
            return self.records[-1]["epoch"], float("nan")
        value, i = max(finite) if maximize else min(finite)
        return self.records[i]["epoch"], value

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-able except ``iterations`` / ``batch_losses``: NumPy arrays (a checkpoint stores them
        as binary arrays; `to_json` and the run directory's ``metrics.json`` write them as lists)."""
        return {
            "engine": self.engine,
            "diverged": self.diverged,
            "interrupted": self.interrupted,
            "stop_reason": self.stop_reason,
            "params": self.params,
            "epochs": self.records,
            "history": self.history,
            "iterations": np.asarray(self.iterations, dtype=np.int64),
            "batch_losses": np.asarray(self.batch_losses, dtype=np.float64),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_jsonable, allow_nan=True)

    def to_csv(self) -> str:
        """One row per epoch, columns = every key seen (missing values left empty)."""
        columns: list[str] = []
        for record in self.records:
            columns += [k for k in record if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.records)
        return buf.getvalue()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        h = cls(params=data.get("params"), engine=data.get("engine", "numpy"))
        for record in data.get("epochs", []):
            h.append(record)
        h.diverged = bool(data.get("diverged", False))
        h.interrupted = bool(data.get("interrupted", False))
        h.stop_reason = data.get("stop_reason")
        h.iterations = [int(i) for i in np.asarray(data.get("iterations", []), dtype=np.int64)]
        h.batch_losses = np.asarray(data.get("batch_losses", []), dtype=np.float64).tolist()
        return h

    def plot(self, title: str | None = None) -> Any:
        """A matplotlib Figure: loss per epoch (left) and accuracy per epoch (right), one line per split
        (`backproplab.train.history_plot.plot_history`); Jupyter shows it, ``.savefig(path)`` writes it."""
        from .history_plot import plot_history

        return plot_history(self, title)

    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per epoch (index ``epoch``) and one column per metric; needs pandas
        (``pip install pandas``), which backproplab itself does not."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "History.to_pandas() needs pandas, which is not installed: pip install pandas "
                "(or use History.to_csv() / History.records, which need nothing)"
            ) from None
        return pd.DataFrame.from_records(self.records, index="epoch") if self.records else pd.DataFrame()

    def __repr__(self) -> str:
        flag = ", diverged" if self.diverged else ", interrupted" if self.interrupted else ""
        last = self.last
        shown = ", ".join(
            f"{k}={v:.4g}"
            for k, v in last.items()
            if k.endswith(("_loss", "_acc")) and k != "batch_loss" and isinstance(v, int | float)
        )
        return f"History(epochs={len(self)}, engine={self.engine!r}{flag}" + (f", last: {shown}" if shown else "") + ")"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
