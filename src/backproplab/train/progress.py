"""Console output of `fit`: a progress bar per epoch in a terminal or a Jupyter notebook (`tqdm.auto`: a widget
where ipywidgets is installed, else a text bar), and one line per epoch everywhere (also in logs)."""

from __future__ import annotations

import sys
import warnings
from typing import Any, TextIO

from tqdm import TqdmWarning

with warnings.catch_warnings():  # in a notebook without ipywidgets tqdm.auto falls back to the text bar, and says so
    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm.auto import tqdm


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where stderr is no terminal, yet a bar displays)."""
    return "ipykernel.zmqshell" in sys.modules or "IPython.utils._process_emscripten" in sys.modules


def format_epoch_line(epoch: int, epochs: int, record: dict[str, Any], sets: list[str]) -> str:
    """The course's per-epoch line, e.g. ``Epoch 1/15, Test Loss: 0.4668, Test Accuracy: 83.15%``."""
    parts = [f"Epoch {epoch}/{epochs}"]
    for name in sets:
        label = {"val": "Validation"}.get(name, name.capitalize())
        if f"{name}_loss" in record:
            parts.append(f"{label} Loss: {record[f'{name}_loss']:.4f}")
        if f"{name}_acc" in record:
            parts.append(f"{label} Accuracy: {100 * record[f'{name}_acc']:.2f}%")
    if "train_objective" in record:
        parts.append(f"Train Objective: {record['train_objective']:.4f}")
    line = ", ".join(parts)
    if "seconds" in record:
        line += f" ({record['seconds']:.1f}s)"
    return line


class Progress:
    """Progress over the batches of one epoch; ``verbose`` 0 = silent, 1 = bar in a terminal or notebook, 2 = lines
    only."""

    def __init__(self, verbose: int, epochs: int, stream: TextIO | None = None) -> None:
        self.verbose = int(verbose)
        self.epochs = epochs
        self.stream = stream or sys.stdout
        self.use_bar = self.verbose == 1 and (sys.stderr.isatty() or in_notebook())
        self.bar: tqdm | None = None
        self.every = 1 << 62  # batches between bar updates

    def start_epoch(self, epoch: int, num_batches: int, done: int = 0) -> None:
        """Open the bar (``done`` batches already taken), updated every 1% of the batches (cheap even at batch
        size 1)."""
        if self.use_bar:
            self.bar = tqdm(
                total=num_batches,
                initial=done,
                desc=f"Epoch {epoch}/{self.epochs}",
                unit="batch",
                leave=False,
                dynamic_ncols=True,
                mininterval=0.2,
            )
            self.every = max(1, num_batches // 100)

    def advance(self, batches: int, batch_loss: float) -> None:
        if self.bar is not None:
            self.bar.update(batches)
            self.bar.set_postfix_str(f"loss {batch_loss:.4f}", refresh=False)

    def end_epoch(self, line: str) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.verbose:
            print(line, file=self.stream, flush=True)

    def message(self, text: str) -> None:
        if self.verbose:
            print(text, file=self.stream, flush=True)
