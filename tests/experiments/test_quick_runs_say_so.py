"""A quick run (--quick) says so wherever its figures appear: the console, the report, the plots; published figures
are compared only at the epochs it reached, the rest listed as not reached."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.experiments.config import PublishedValue
from backproplab.experiments.run.published import compare_published, format_published
from backproplab.report import run_report
from backproplab.train import History


def history(epochs: int) -> History:
    h = History()
    for e in range(1, epochs + 1):
        h.append({"epoch": e, "test_loss": 1.0 / e, "test_acc": 0.5 + e / 100})
    return h


PUBLISHED = [
    PublishedValue(epoch=1, metric="test_acc", value=0.8315),
    PublishedValue(epoch=5, metric="test_acc", value=0.8656),
    PublishedValue(epoch=5, metric="test_loss", value=0.3813),
    PublishedValue(epoch=0, metric="test_acc", value=0.97, at_least=True),
]


def test_published_values_are_compared_only_where_the_run_got() -> None:
    rows = compare_published(PUBLISHED, history(2), {"test_acc": 0.52}, full_length=False)
    assert [(r["epoch"], r["metric"], r["reached"]) for r in rows] == [
        (1, "test_acc", True),
        (5, "test_acc", False),
        (5, "test_loss", False),
        (0, "test_acc", False),
    ]
    assert rows[0]["this_run"] == 0.51 and rows[0]["difference"] == pytest.approx(0.51 - 0.8315)
    assert all(r["this_run"] is None and r["difference"] is None for r in rows[1:])
    text = format_published(rows)
    assert text.splitlines()[1].split() == ["test_acc", "1", "83.15%", "51.00%", "-32.15"]
    assert text.splitlines()[-1] == (
        "not reached in this run: test_acc, test_loss at epoch 5; test_acc (final, after the full run)"
    )
    full = compare_published(PUBLISHED, history(5), {"test_acc": 0.98}, full_length=True)
    assert all(r["reached"] for r in full) and full[3]["this_run"] == 0.98
    assert "not reached" not in format_published(full)


@pytest.mark.needs_data("fashion-mnist")
@pytest.mark.slow
def test_a_quick_run_says_so_in_the_console_report_and_plots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    titles: list[str] = []
    original = run_report.plot_curves
    monkeypatch.setattr(run_report, "plot_curves", lambda *a, **k: titles.append(k["title"]) or original(*a, **k))
    result = CliRunner().invoke(main, ["run", "fashion-batch5", "--quick", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "QUICK RUN (--quick): 2 epoch(s) on train 2000, test 1000: a preview, not the full experiment" in out
    assert "Final (quick run, " in out
    # the published train loss is at epoch 50, which a 2-epoch run does not reach: nothing is compared
    assert "not reached in this run: train_loss at epoch 50" in out and "0.2331" not in out
    [run] = [p for p in tmp_path.iterdir() if p.is_dir()]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["variant"] == "quick" and summary["published"][0]["reached"] is False
    html = (run / "report.html").read_text()
    subtitle = re.search(r'<p class="muted">(.*?)</p>', html).group(1)
    assert subtitle.startswith("quick run, 2 epochs on train 2,000, test 1,000, of: ") and "50 epochs" in subtitle
    assert '<p class="note">Quick run: 2 epochs, quick run on train 2,000, test 1,000 (data slices)' in html
    published = html.split("<h2>Published vs this run</h2>")[1].split("<h2>")[0]
    assert published == '<p class="muted">Not reached in this run: train_loss at epoch 50.</p>'
    assert '>variant</td><td class="">quick (--quick)</td>' in html
    assert titles == [
        "fashion-batch5: loss per epoch (2 epochs, quick run)",
        "fashion-batch5: accuracy per epoch (2 epochs, quick run)",
    ]


def test_long_trial_messages_are_shortened_with_the_full_text_on_hover() -> None:
    from backproplab.report.sections import shorten

    message = "diverged: " + "train_loss is nan; " * 40 + "\nTraceback line 2"
    cell = shorten(message)
    full = re.search(r'title="(.*?)"', cell, re.S).group(1)
    assert full.replace("&#x27;", "'") == message.replace("'", "&#x27;").replace("&#x27;", "'")
    shown = re.sub(r"<[^>]+>", "", cell)
    assert len(shown) <= 120 and shown.endswith("…")
    assert shorten("short note") == "short note"
