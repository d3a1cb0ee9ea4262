"""Sweep reports built from sweep directories assembled out of real tiny runs (tests/sweep_dirs.py)."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from backproplab.cli.main import main
from backproplab.report import write_report, write_sweep_report
from backproplab.report.style import plt
from backproplab.report.sweep_data import lr_points, read_sweep, sort_trials
from backproplab.report.sweep_plots import lr_figure, overlay_figure, parallel_axes, parallel_figure
from cli_errors import assert_cli_error
from sweep_dirs import assemble_sweep, copy_sweep

pytestmark = pytest.mark.needs_data("fashion-mnist")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPIRAL = {
    "data": {"dataset": "spiral"},
    "model": {"hidden": [16], "activation": "relu"},
    "training": {"epochs": 3, "batch_size": 20, "eval": ["test"]},
}
FASHION = {
    "data": {"dataset": "fashion-mnist", "limit_train": 500, "limit_test": 300},
    "model": {"hidden": [16]},
    "optimizer": {"lr": 0.1},
    "training": {"epochs": 2, "eval": ["test"]},
}
PUBLISHED = [
    {
        "metric": "test_acc",
        "epoch": 0,
        "published": 0.8452,
        "at_least": False,
        "source": "HW2 handout",
        "this_run": 0.5,
        "difference": 0.5 - 0.8452,
    }
]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sweeps")
    space = {"optimizer.lr": [0.05, 0.5, 1e4], "optimizer.name": ["sgd", "adam"]}
    lr = assemble_sweep(
        root,
        "spiral-lr",
        SPIRAL,
        space,
        metric="test_loss",
        mode="min",
        error_trials={1: "ValueError: simulated crash in trial 1"},
    )
    bs = assemble_sweep(
        root,
        "fashion-bs",
        FASHION,
        {"training.batch_size": [10, 50, 100]},
        metric="test_acc",
        mode="max",
        published=PUBLISHED,
    )
    return {"lr": lr, "bs": bs}


@pytest.fixture(scope="module")
def reports(sweeps: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reported")
    return {k: write_sweep_report(copy_sweep(v, out)) for k, v in sweeps.items()}


def expected_order(trials: list[dict], mode: str) -> list[str]:
    """Independent of the report code: ok trials by selection (best first, ties by index), then diverged,
    then errors, each by index."""
    ok = [t for t in trials if t["status"] == "ok"]
    ok.sort(key=lambda t: (t["selection"] if mode == "min" else -t["selection"], t["index"]))
    rest = sorted((t for t in trials if t["status"] == "diverged"), key=lambda t: t["index"])
    rest += sorted((t for t in trials if t["status"] == "error"), key=lambda t: t["index"])
    return [t["trial"] for t in ok + rest]


def table_order(html: str) -> list[str]:
    """Trial ids in the order of the trial table's rows."""
    section = html.split("<h2>Trials, best first</h2>", 1)[1].split("</table>", 1)[0]
    rows = section.split("<tr>")[2:]  # skip the header row
    return [re.search(r">(t\d{3})<", row).group(1) for row in rows]


def data_uri_images(html: str) -> list[Image.Image]:
    srcs = re.findall(r'<img [^>]*src="([^"]*)"', html)
    assert srcs and len(srcs) == html.count("<img ")
    images = []
    for src in srcs:
        assert src.startswith("data:image/png;base64,"), src[:60]
        raw = base64.b64decode(src.removeprefix("data:image/png;base64,"), validate=True)
        assert raw.startswith(PNG_SIGNATURE)
        img = Image.open(io.BytesIO(raw))
        img.load()
        assert img.format == "PNG" and img.width >= 200 and img.height >= 150
        images.append(img)
    return images


@pytest.mark.parametrize("which", ["lr", "bs"])
def test_report_lists_every_trial_best_first_with_inlined_pngs(reports: dict[str, Path], which: str) -> None:
    html_path = reports[which]
    html = html_path.read_text()
    trials = json.loads((html_path.parent / "trials.json").read_text())
    summary = json.loads((html_path.parent / "sweep_summary.json").read_text())
    order = table_order(html)
    assert order == expected_order(trials, summary["selection"]["mode"])
    assert sorted(order) == sorted(t["trial"] for t in trials)
    assert order[0] == summary["best"]
    images = data_uri_images(html)
    pngs = sorted(html_path.parent.glob("sweep_*.png"))
    assert len(images) >= len(pngs) >= 3  # every sweep plot plus the best trial's own plots
    for png in pngs:  # each plot on disk is the one inlined
        assert base64.b64encode(png.read_bytes()).decode() in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_statuses_errors_and_divergence_are_shown(reports: dict[str, Path]) -> None:
    html = reports["lr"].read_text()
    assert "simulated crash in trial 1" in html
    trials = json.loads((reports["lr"].parent / "trials.json").read_text())
    assert [t["status"] for t in trials].count("diverged") == 2  # both 1e4 runs blew up
    section = html.split("<h2>Trials, best first</h2>", 1)[1].split("</table>", 1)[0]
    assert section.count(">diverged<") == 2 and section.count(">error<") == 1
    assert "1 error" in html and "2 diverged" in html


def test_published_table_and_best_trial(reports: dict[str, Path]) -> None:
    html = reports["bs"].read_text()
    assert "Published vs this sweep" in html and "84.52%" in html and "HW2 handout" in html
    summary = json.loads((reports["bs"].parent / "sweep_summary.json").read_text())
    best = summary["best"]
    assert f"Best trial {best}" in html
    assert f'href="trials/{best}/report.html"' in html
    assert (reports["bs"].parent / "trials" / best / "report.html").is_file()


def test_overlay_curves_one_line_per_batch_size(reports: dict[str, Path]) -> None:
    sweep = reports["bs"].parent
    for name in ("sweep_train_loss.png", "sweep_test_loss.png"):
        assert (sweep / name).is_file()
    data = read_sweep(sweep)
    lines = []
    for t in data.trials:
        history = json.loads((sweep / t["run_dir"] / "metrics.json").read_text())["history"]
        lines.append(
            {
                "label": f"batch_size={t['params']['training.batch_size']}",
                "values": history["train_loss"],
                "status": t["status"],
                "score": t["selection"],
            }
        )
    fig = overlay_figure(lines, "train_loss", title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["batch_size=10", "batch_size=50", "batch_size=100"]
    for line, expected in zip(ax.get_lines(), lines, strict=True):
        np.testing.assert_allclose(line.get_ydata(), expected["values"])
        np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    assert ax.get_xlabel() == "epoch" and "loss" in ax.get_ylabel() and "training set" in ax.get_ylabel()
    plt.close(fig)


def test_many_trials_are_coloured_by_score_with_only_the_best_named() -> None:
    lines = [
        {"label": f"lr={i}", "values": [1.0 / (i + 1), 0.5 / (i + 1)], "status": "ok", "score": float(i)}
        for i in range(15)
    ]
    fig = overlay_figure(lines, "val_loss", title="t", selection="val_loss", mode="min")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["best: lr=0"]
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "val_loss (trial colour)"  # the colorbar
    plt.close(fig)


def test_learning_rate_plot_only_for_rate_sweeps_and_marks_divergence(reports: dict[str, Path]) -> None:
    assert (reports["lr"].parent / "sweep_lr.png").is_file() and "Learning rate</h2>" in reports["lr"].read_text()
    assert not (reports["bs"].parent / "sweep_lr.png").exists()
    assert "Learning rate</h2>" not in reports["bs"].read_text()
    data = read_sweep(reports["lr"].parent)
    key, metric, points = lr_points(data)
    assert key == "optimizer.lr" and metric == "test_loss"
    by = {(p.group, p.lr): p for p in points}
    assert by[("name=sgd", 1e4)].status == by[("name=adam", 1e4)].status == "diverged"
    assert by[("name=adam", 0.05)].status == "error"  # the crashed trial
    t0 = data.trials[0]  # sgd, 0.05: its best loss is the minimum of its own test-loss curve
    curve = json.loads((data.path / "trials" / "t000" / "metrics.json").read_text())["history"]["test_loss"]
    assert by[("name=sgd", 0.05)].best == pytest.approx(min(curve)) and t0["params"]["optimizer.lr"] == 0.05
    fig = lr_figure(points, metric, key, title="t")
    ax = fig.axes[0]
    marks = [(t.get_text(), t.xy[0]) for t in ax.texts]
    assert sorted(marks) == [("diverged", 1e4), ("diverged", 1e4), ("error", 0.05)]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.05", "0.5", "1e+04"]
    assert "learning rate" in ax.get_xlabel() and "loss" in ax.get_ylabel()
    plt.close(fig)


def test_parallel_coordinates_axes_are_the_space_keys(reports: dict[str, Path]) -> None:
    data = read_sweep(reports["lr"].parent)
    axes = parallel_axes(data.trials, data.space, data.metric)
    assert [a["key"] for a in axes] == ["optimizer.lr", "optimizer.name", "test_loss"]
    assert [a["kind"] for a in axes] == ["log", "categorical", "metric"]
    lr_axis = axes[0]
    assert lr_axis["pos"](0.05) == 0 and lr_axis["pos"](1e4) == 1
    assert lr_axis["pos"](0.5) == pytest.approx(math.log10(10) / math.log10(2e5))  # equal ratios, equal steps
    fig = parallel_figure(data.trials, data.space, data.metric, data.mode, title="t")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["lr (log)", "name", "test_loss"]
    assert "lower is better" in fig.axes[1].get_ylabel()  # the colorbar
    plt.close(fig)
    bs = read_sweep(reports["bs"].parent)
    fig = parallel_figure(bs.trials, bs.space, bs.metric, bs.mode, title="t")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["batch_size", "test_acc"]
    assert "accuracy (%)" in fig.axes[1].get_ylabel() and "higher is better" in fig.axes[1].get_ylabel()
    plt.close(fig)


def test_sort_trials_max_mode_ties_and_missing_values() -> None:
    trials = [
        {"trial": "t000", "index": 0, "status": "error", "selection": None},
        {"trial": "t001", "index": 1, "status": "ok", "selection": 0.5},
        {"trial": "t002", "index": 2, "status": "diverged", "selection": None},
        {"trial": "t003", "index": 3, "status": "ok", "selection": 0.9},
        {"trial": "t004", "index": 4, "status": "ok", "selection": 0.5},
        {"trial": "t005", "index": 5, "status": "ok", "selection": float("nan")},
    ]
    assert [t["trial"] for t in sort_trials(trials, "max")] == ["t003", "t001", "t004", "t005", "t002", "t000"]
    assert [t["trial"] for t in sort_trials(trials, "min")] == ["t001", "t004", "t003", "t005", "t002", "t000"]


def test_report_command_handles_runs_sweeps_and_neither(sweeps: dict[str, Path], tmp_path: Path) -> None:
    sweep = copy_sweep(sweeps["lr"], tmp_path)
    cli = CliRunner()
    result = cli.invoke(main, ["report", str(sweep), "--trials"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(sweep / "report.html") and (sweep / "sweep_parallel.png").is_file()
    html = (sweep / "report.html").read_text()
    for t in json.loads((sweep / "trials.json").read_text()):  # every trial that ran links its own report
        if t["run_dir"]:
            assert (sweep / t["run_dir"] / "report.html").is_file()
            assert f'href="{t["run_dir"]}/report.html"' in html
    run = sweep / "trials" / "t000"
    result = cli.invoke(main, ["report", str(run)])
    assert result.exit_code == 0 and result.output.strip() == str(run / "report.html")
    assert "backproplab run:" in (run / "report.html").read_text()
    (sweep / "sweep_summary.json").unlink()  # a sweep still running: trials.json only
    result = cli.invoke(main, ["report", str(sweep)])
    assert_cli_error(result, 1, "has not finished")
    result = cli.invoke(main, ["report", str(tmp_path / "nothing")])
    assert_cli_error(result, 2, "does not exist")  # click's check of the argument
    (tmp_path / "empty").mkdir()
    with pytest.raises(Exception, match="neither a finished run directory"):
        write_report(tmp_path / "empty")


def test_random_search_rates_are_a_cloud_and_huge_losses_go_log() -> None:
    from backproplab.report.sweep_data import RatePoint

    rng = np.random.default_rng(1)
    rates = 10 ** rng.uniform(-3, 1, size=9)
    points = [
        RatePoint(float(r), f"batch_size={10 + i}", 0.5 + i / 10, "ok", [f"t{i:03d}"]) for i, r in enumerate(rates)
    ]
    points[-1].best = 80.0  # one run that blew up without NaN
    fig = lr_figure(points, "val_loss", "optimizer.lr", title="t")
    ax = fig.axes[0]
    assert not ax.get_lines()  # unrelated trials are not joined by a line
    np.testing.assert_allclose(np.sort(ax.collections[0].get_offsets()[:, 0]), np.sort(rates))
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_report_of_a_sweep_run_by_run_sweep_with_retrain(tmp_path: Path) -> None:
    """The real sweep runner's directory (examples/sweep-spiral.toml, --quick: 4 points, retrain)."""
    from backproplab.experiments.sweep import apply_quick_sweep, load_sweep, run_sweep

    example = Path(__file__).resolve().parents[2] / "examples" / "sweep-spiral.toml"
    result = run_sweep(apply_quick_sweep(load_sweep(example)), sweep_dir=tmp_path / "s", executor="serial")
    html = write_sweep_report(result.sweep_dir).read_text()
    trials = json.loads((result.sweep_dir / "trials.json").read_text())
    summary = json.loads((result.sweep_dir / "sweep_summary.json").read_text())
    assert table_order(html) == expected_order(trials, summary["selection"]["mode"])
    assert "Retrained best point" in html and 'href="retrain/report.html"' in html
    assert (result.sweep_dir / "retrain" / "report.html").is_file()
    assert {p.name for p in result.sweep_dir.glob("sweep_*.png")} == {
        "sweep_train_loss.png",
        "sweep_val_loss.png",
        "sweep_test_loss.png",
        "sweep_val_acc.png",
        "sweep_lr.png",
        "sweep_parallel.png",
    }
    data = read_sweep(result.sweep_dir)
    assert [a["key"] for a in parallel_axes(data.trials, data.space, data.metric)] == [
        "optimizer.lr",
        "model.hidden",
        "val_loss",
    ]
    data_uri_images(html)
