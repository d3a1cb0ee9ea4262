"""What a notebook user sees: History.plot() and History.to_pandas(), progress bars in Jupyter, and results whose
repr is one short line instead of whole arrays."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import backproplab as bp
from backproplab import nn
from backproplab.data import Dataset
from backproplab.optim import SGD
from backproplab.train import History
from backproplab.train.progress import Progress


def trained(fashion_small: Dataset) -> History:
    model = nn.mlp([784, 16, 10], "relu", seed=0)
    return bp.fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        fashion_small,
        epochs=3,
        batch_size=50,
        validation_size=100,
        eval_sets={"test": fashion_small.take(100)},
        verbose=0,
    )


def test_history_plot_draws_loss_and_accuracy_per_split(fashion_small: Dataset) -> None:
    history = trained(fashion_small)
    fig = history.plot("title")
    loss, acc = fig.axes
    assert loss.get_ylabel().startswith("loss") and acc.get_ylabel() == "accuracy (%)"
    for ax, metric, scale in ((loss, "loss", 1), (acc, "acc", 100)):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"train (whole set)", "validation", "test"}
        for label, split in (("train (whole set)", "train"), ("validation", "val"), ("test", "test")):
            np.testing.assert_array_equal(lines[label].get_xdata(), [1, 2, 3])
            np.testing.assert_allclose(lines[label].get_ydata(), np.array(history.history[f"{split}_{metric}"]) * scale)
    assert fig._suptitle.get_text() == "title"
    import matplotlib.pyplot as plt

    assert fig.number not in plt.get_fignums()  # closed in pyplot: Jupyter shows it once, as the cell's value
    with pytest.raises(ValueError, match="no per-split loss or accuracy to plot"):
        History().plot()


def test_history_to_pandas_has_one_row_per_epoch(fashion_small: Dataset) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is optional (History.to_pandas)")
    history = trained(fashion_small)
    frame = history.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.index) == [1, 2, 3] and frame.index.name == "epoch"
    for key, values in history.history.items():
        assert frame[key].tolist() == values


def test_history_to_pandas_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(
        ImportError,
        match=r"History.to_pandas\(\) needs pandas, which is not installed: pip install "
        r"pandas \(or use History.to_csv\(\) / History.records",
    ):
        History().to_pandas()


def test_progress_bar_in_a_terminal_or_a_notebook_and_lines_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not Progress(1, 3).use_bar  # a log: one line per epoch, no bar
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", object())  # a Jupyter kernel
    assert Progress(1, 3).use_bar and not Progress(2, 3).use_bar and not Progress(0, 3).use_bar


def test_results_have_short_reprs(fashion_small: Dataset) -> None:
    history = trained(fashion_small)
    text = repr(history)
    assert text.startswith("History(epochs=3, engine=") and "train_loss=" in text and "batch_loss" not in text
    model = nn.mlp([784, 16, 10], "relu", seed=0)
    report = bp.gradcheck(model, fashion_small.X[:3], fashion_small.y[:3], max_checks=20)
    worst = max(report.errors, key=report.errors.__getitem__)
    assert repr(report) == (
        f"GradcheckReport(max_error={report.max_error:.3g} in {worst!r}, 5 tensors, "
        f"{sum(report.checked.values())} entries checked; print() it for the table)"
    )
    assert "array" not in repr(report) and "max rel error" in str(report)
    from backproplab.data import fit_pca

    pca = fit_pca(fashion_small.X[:200].astype(np.float64), 0.9)
    assert repr(pca) == f"PCA(784 -> {pca.num_components} components, {100 * pca.explained:.1f}% of the variance)"
