"""`write_sweep_report`: the PNG plots and the self-contained HTML page of a sweep directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._io import atomic_write_text
from ..errors import BackproplabError
from ..rundir import RunDir
from .html import esc, figure, page, table
from .run_report import PLOT_FILES, REPORT_FILE, write_run_plots, write_run_report
from .sections import fmt_metric, published_section, shorten
from .style import save
from .sweep_data import (
    SweepData,
    format_value,
    lr_points,
    params_label,
    read_sweep,
    selection_value,
    short_names,
    sort_trials,
)
from .sweep_plots import display_scale, lr_figure, overlay_figure, parallel_figure

FINAL_COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
RUN_PLOT_CAPTIONS = {
    "loss": "Loss per epoch",
    "accuracy": "Accuracy per epoch",
    "confusion_test": "Confusion matrix, test set",
    "confusion_validation": "Confusion matrix, validation set",
    "weights": "First-layer weights as images",
}


def _trial_lines(data: SweepData, ordered: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    keys = data.keys
    seeds = len(data.seeds) > 1
    lines = []
    for t in ordered:
        hist = data.history(t)
        values = (hist or {}).get(metric)
        if not values:
            continue
        group = params_label(t.get("params", {}), keys) or str(t["trial"])
        label = f"{group}, seed {t.get('seed')}" if seeds else group
        score = selection_value(t)
        lines.append(
            {
                "label": label,
                "group": group,
                "seed_index": data.seeds.index(t.get("seed")),
                "values": values,
                "status": t.get("status"),
                "trial": t["trial"],
                "score": None if score is None else score * display_scale(data.metric),
            }
        )
    return lines


def write_sweep_plots(data: SweepData) -> dict[str, Path]:
    """``sweep_<split>_<loss|acc>.png`` overlays, ``sweep_lr.png`` (rate sweeps) and ``sweep_parallel.png``."""
    ordered = sort_trials(data.trials, data.mode)
    name = data.summary.get("name", data.path.name)
    plots: dict[str, Path] = {}
    curves = [f"{s}_loss" for s in ("train", "val", "test")]
    acc_split = next(
        (s for s in ("val", "test", "train") if any((data.history(t) or {}).get(f"{s}_acc") for t in data.trials)), None
    )
    if acc_split:
        curves.append(f"{acc_split}_acc")
    names = list(short_names(data.keys).values())
    by = names[0] if len(names) == 1 else f"trial ({', '.join(names)})" if names else "trial"
    for metric in curves:
        lines = _trial_lines(data, ordered, metric)
        if not lines:
            continue
        split, what = metric.split("_")
        where = {"val": "validation", "train": "training"}.get(split, split)
        title = f"{name}: {'accuracy' if what == 'acc' else 'loss'} on the {where} set, one line per {by}"
        fig = overlay_figure(lines, metric, title=title, selection=data.metric, mode=data.mode)
        plots[f"sweep_{metric}"] = Path(save(fig, str(data.path / f"sweep_{metric}.png")))
    key, loss, points = lr_points(data)
    if key is not None and len({p.lr for p in points}) >= 2:  # one rate is no learning-rate study
        fig = lr_figure(
            points, loss or "val_loss", key, title=f"{name}: best loss against the learning rate", seeds=len(data.seeds)
        )
        plots["sweep_lr"] = Path(save(fig, str(data.path / "sweep_lr.png")))
    if data.keys and data.trials:
        extra = ["val_acc"] if any("val_acc" in (t.get("final") or {}) for t in data.trials) else []
        fig = parallel_figure(
            data.trials,
            data.space,
            data.metric,
            data.mode,
            extra=extra,
            title=f"{name}: every trial's hyperparameters and {data.metric}",
        )
        plots["sweep_parallel"] = Path(save(fig, str(data.path / "sweep_parallel.png")))
    return plots


def _trial_table(data: SweepData) -> str:
    ordered = sort_trials(data.trials, data.mode)
    keys = data.keys
    names = short_names(keys)
    seeds = len(data.seeds) > 1
    finals = [c for c in FINAL_COLUMNS if c != data.metric and any(c in (t.get("final") or {}) for t in data.trials)]
    best = data.summary.get("best")
    header = [
        "rank",
        "trial",
        *(names[k] for k in keys),
        *(["seed"] if seeds else []),
        "status",
        f"{data.metric} ({data.mode})",
        *finals,
        "epochs",
        "seconds",
        "note",
    ]
    rows = []
    for rank, t in enumerate(ordered, 1):
        tid = str(t["trial"])
        run = data.run_dir(t)
        link = esc(tid)
        if run is not None and (run / REPORT_FILE).is_file():
            link = f'<a href="{esc(run.relative_to(data.path).as_posix())}/{REPORT_FILE}">{esc(tid)}</a>'
        if tid == best:
            link = f"<strong>{link}</strong>&nbsp;★"
        status = str(t.get("status"))
        css = {"ok": "good", "diverged": "bad", "error": "bad"}.get(status, "")
        final = t.get("final") or {}
        note = t.get("error") or ""
        if status == "diverged" and not note:
            note = "diverged (NaN/inf loss); no selection value"
        sel = t.get("selection") if status == "ok" else None
        rows.append(
            [
                rank,
                link,
                *(esc(format_value(t.get("params", {}).get(k))) for k in keys),
                *([esc(t.get("seed"))] if seeds else []),
                f'<span class="{css}">{esc(status)}</span>',
                f"<strong>{fmt_metric(data.metric, sel)}</strong>" if sel is not None else "—",
                *(fmt_metric(c, final.get(c)) for c in finals),
                esc(t.get("epochs_run", "")),
                f"{t['seconds']:.1f}" if isinstance(t.get("seconds"), int | float) else "",
                f'<span class="bad">{shorten(note)}</span>' if status != "ok" else shorten(note),
            ]
        )
    return table(header, rows, left=2 + len(keys) + (1 if seeds else 0) + 1)


def _random_note(search: dict[str, Any]) -> str:
    if search.get("method") != "random":
        return ""
    return esc(f", {search.get('num_trials')} draws, seed {search.get('seed')}")


def _config_section(data: SweepData) -> str:
    s = data.summary
    search = data.sweep_file.get("search", {})
    selection = data.sweep_file.get("selection", {})
    space_rows = [[esc(k), f"<code>{esc(json.dumps(v))}</code>"] for k, v in data.space.items()]
    counts = s.get("trials") or {}
    facts = [
        ["name", esc(s.get("name"))],
        ["description", esc(s.get("description", ""))],
        ["base", esc(data.sweep_file.get("base", ""))],
        ["search", esc(search.get("method", "grid")) + _random_note(search)],
        ["selection", f"{esc(data.metric)} ({'lowest' if data.mode == 'min' else 'highest'} wins)"],
        ["seeds", esc(", ".join(str(x) for x in selection.get("seeds", data.seeds)))],
        ["retrain on train+validation", "yes" if s.get("retrain") or selection.get("retrain") else "no"],
        ["executor", esc(s.get("executor", ""))],
        ["trials", esc(", ".join(f"{k} {v}" for k, v in counts.items()) or len(data.trials))],
    ]
    text = (
        f"<details><summary>sweep.toml (resolved)</summary><pre>{esc(data.sweep_text)}</pre></details>"
        if data.sweep_text
        else ""
    )
    facts = [f for f in facts if f[1] not in ("", "None")]
    return (
        "<h2>Sweep</h2>"
        + table(["setting", "value"], facts, left=2)
        + "<h3>Search space</h3>"
        + table(["hyperparameter", "values / distribution"], space_rows, left=2)
        + text
    )


def _run_section(data: SweepData, heading: str, rel: str, note: str) -> str:
    """Final metrics and the main plots of the best trial or the retrained run (its own report linked)."""
    run = data.path / rel
    if not RunDir.is_finished(run):
        return ""
    summary = RunDir(run).read_summary()
    if not (run / REPORT_FILE).is_file():
        write_run_report(run)  # also writes its PNGs
    files = {k: PLOT_FILES[k] for k in ("loss", "accuracy", "confusion_test", "confusion_validation", "weights")}
    if not all((run / f).is_file() for k, f in files.items() if k in ("loss", "accuracy")):
        write_run_plots(run)  # a report without its plots (deleted by hand): draw them again
    plots = {k: run / f for k, f in files.items() if (run / f).is_file()}
    rows = [[esc(k), fmt_metric(k, v)] for k, v in summary.get("final", {}).items()]
    return (
        f'<h2>{esc(heading)}</h2><p>{note} <a href="{esc(rel)}/{REPORT_FILE}">Its full report</a>.</p>'
        + table(["metric", "value"], rows)
        + "".join(figure(p, f"{heading}: {RUN_PLOT_CAPTIONS[k]}") for k, p in plots.items())
    )


def _headline(data: SweepData) -> str:
    s = data.summary
    counts = {k: v for k, v in (s.get("trials") or {}).items() if k in ("ok", "diverged", "interrupted", "error")}
    total = len(data.trials)
    parts = [f"{total} trials"] + [f"{v} {k}" for k, v in counts.items() if v]
    best = s.get("best")
    line = ", ".join(parts) + "."
    if best:
        trial = next((t for t in data.trials if t.get("trial") == best), {})
        label = params_label(s.get("best_params") or trial.get("params", {}), data.keys)
        line += (
            f" Best: <strong>{esc(best)}</strong> ({esc(label)})"
            f" with {esc(data.metric)} {fmt_metric(data.metric, trial.get('selection'))}."
        )
    else:
        line += ' <span class="bad">No trial finished with a finite selection metric.</span>'
    if s.get("status") == "interrupted":
        line += (
            f' <span class="bad">The sweep was interrupted ({esc(s.get("stopped_by") or "stopped")}): resume it '
            f"with <code>backproplab resume {esc(data.path)}</code>.</span>"
        )
    if s.get("retrain_error"):
        line += f' <span class="bad">Retraining the best point failed: {shorten(s["retrain_error"], 300)}</span>'
    final = s.get("final") or {}
    if final:
        which = "retrained best" if s.get("retrain") else "best trial"
        line += f" Final ({which}): " + ", ".join(f"{esc(k)} {fmt_metric(k, v)}" for k, v in final.items()) + "."
    return f"<p>{line}</p>"


CAPTIONS = {
    "sweep_lr": "Best loss over epochs against the learning rate (log scale); diverged rates marked x",
    "sweep_parallel": "Parallel coordinates: one axis per hyperparameter, colour = selection metric",
}


def _curve_caption(key: str) -> str:
    split, what = key.removeprefix("sweep_").split("_")
    where = {"val": "Validation", "train": "Training", "test": "Test"}.get(split, split)
    return f"{where} {'accuracy' if what == 'acc' else 'loss'} per epoch, one line per trial"


def write_sweep_report(sweep_dir: str | Path, *, trial_reports: bool = False) -> Path:
    """Plots plus ``report.html`` (self-contained: every image inlined) for a finished sweep directory.

    Each trial's own report is linked from the trial table when it exists; ``trial_reports=True`` first
    writes the missing ones (about a second per trial). The best trial's and the retrained run's reports
    are always written, since their plots are shown on the page.
    """
    data = read_sweep(sweep_dir)
    if not data.trials:
        raise BackproplabError(f"{data.path}: the sweep has no trials in trials.json")
    if trial_reports:
        for t in data.trials:
            run = data.run_dir(t)
            if run is not None and RunDir.is_finished(run) and not (run / REPORT_FILE).is_file():
                write_run_report(run)
    plots = write_sweep_plots(data)
    s = data.summary
    sections = [_headline(data), _config_section(data), "<h2>Trials, best first</h2>" + _trial_table(data)]
    if s.get("best"):
        best_trial = next((t for t in data.trials if t.get("trial") == s["best"]), None)
        rel = (best_trial or {}).get("run_dir") or f"trials/{s['best']}"
        sections.append(
            _run_section(data, f"Best trial {s['best']}", rel, esc(params_label(s.get("best_params") or {}, data.keys)))
        )
    if s.get("retrain"):
        sections.append(
            _run_section(
                data,
                "Retrained best point",
                str(s["retrain"]),
                "The best hyperparameters trained again on training + validation data, evaluated on the test set.",
            )
        )
    sections.append(published_section(s.get("published") or [], "Published vs this sweep"))
    curve_figs = [figure(p, _curve_caption(k)) for k, p in plots.items() if k not in CAPTIONS]
    if curve_figs:
        sections.append("<h2>Curves per hyperparameter value</h2>" + "".join(curve_figs))
    for key in ("sweep_lr", "sweep_parallel"):
        if key in plots:
            sections.append(
                f"<h2>{'Learning rate' if key == 'sweep_lr' else 'Parallel coordinates'}</h2>"
                + figure(plots[key], CAPTIONS[key])
            )
    title = f"backproplab sweep: {s.get('name', data.path.name)}"
    subtitle = s.get("description", "")
    if s.get("variant") == "quick":
        sections.insert(
            0,
            f'<p class="note">Quick sweep: every trial is a short run on data slices (the sweep\'s '
            f"quick variant), a preview of the study: published figures are compared only at the epochs "
            f"its runs reached. Run <code>backproplab run {esc(s.get('name'))}</code> for the full "
            f"study.</p>",
        )
        subtitle = f"quick sweep of: {subtitle}"
    html_text = page(title, sections, subtitle=f"{subtitle} — {data.path.name}")
    return atomic_write_text(data.path / REPORT_FILE, html_text)
