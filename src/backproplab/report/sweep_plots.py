"""Plots of a sweep: overlay curves (one line per trial), best loss vs learning rate, parallel coordinates.

Each ``*_figure`` function returns the matplotlib Figure (the tests read its axes, labels and markers);
``save`` from `style` writes it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from .plots import ACC_LABEL, LOSS_LABEL
from .style import STYLE, plt
from .sweep_data import (
    RatePoint,
    format_value,
    is_categorical,
    is_log_key,
    selection_value,
    short_names,
)

SPLIT_NAMES = {"train": "training set", "val": "validation set", "test": "test set"}
MAX_LEGEND_LINES = 10
SEED_STYLES = ("-", ":", "-.")
LOG_RATIO = 30.0  # losses spanning more than this factor get a log axis
MAX_RATE_GROUPS = 6  # more groups than this (random search): one cloud of points instead of lines


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    with plt.rc_context(STYLE):
        return plt.subplots(figsize=(width, height), layout="constrained")


def metric_cmap(mode: str) -> Any:
    """viridis with the best value yellow: reversed for metrics to minimise."""
    return plt.get_cmap("viridis_r" if mode == "min" else "viridis")


def metric_label(metric: str, mode: str) -> str:
    what = "accuracy (%)" if metric.endswith("acc") else "loss" if metric.endswith("loss") else "value"
    return f"{metric}: {what}, {'lower' if mode == 'min' else 'higher'} is better"


def display_scale(metric: str) -> float:
    """100 for accuracies (shown in %), 1 for everything else."""
    return 100.0 if metric.endswith("acc") else 1.0


def overlay_figure(
    lines: Sequence[dict[str, Any]], metric: str, *, title: str, selection: str = "", mode: str = "min"
) -> Figure:
    """``metric`` (e.g. ``train_loss``) per epoch, one line per trial.

    ``lines``: dicts with ``label``, ``values`` (per epoch), ``status`` and ``score`` (selection value or None),
    best first; optional ``group`` (the point without its seed: lines of one group share a colour) and
    ``seed_index`` (line style). Up to `MAX_LEGEND_LINES` lines get a legend entry each; more are coloured
    by their selection score (with a colorbar) and only the best is named, so a big sweep stays legible.
    Diverged trials are dashed with an x where they stopped, and the y-range follows the trials that
    finished, so one blow-up does not flatten the rest.
    """
    scale = display_scale(metric)
    fig, ax = _figure(7.2, 4.5)
    many = len(lines) > MAX_LEGEND_LINES
    scores = [ln["score"] for ln in lines if ln.get("score") is not None]  # already in display units
    norm = _norm(scores) if scores and many else None
    cmap = metric_cmap(mode)
    palette = plt.get_cmap("tab10")
    blowups: list[tuple[int, Any]] = []
    groups: dict[str, int] = {}
    finite_ok: list[float] = []
    finite_all: list[float] = []
    max_epoch = 0
    for i, ln in enumerate(lines):
        y = np.asarray([np.nan if v is None else v for v in ln["values"]], dtype=float) * scale
        if not y.size:
            continue
        x = np.arange(1, y.size + 1)
        max_epoch = max(max_epoch, y.size)
        good = y[np.isfinite(y)]
        finite_all.extend(good.tolist())
        diverged = ln["status"] != "ok"
        if not diverged:
            finite_ok.extend(good.tolist())
        style: dict[str, Any] = {
            "linestyle": "--" if diverged else "-",
            "marker": "o" if y.size <= 30 else None,
            "markersize": 2.5,
        }
        if many:
            best = i == 0 and not diverged
            colour = "grey" if ln.get("score") is None or norm is None else cmap(norm(ln["score"]))
            ax.plot(
                x,
                y,
                color="black" if best else colour,
                linewidth=2.2 if best else 0.9,
                alpha=1.0 if best else 0.75,
                zorder=3 if best else 2,
                label=f"best: {ln['label']}" if best else None,
                **style,
            )
        else:  # seeds of one point share its colour and differ in line style
            colour = palette(groups.setdefault(ln.get("group", ln["label"]), len(groups)) % 10)
            if not diverged:
                style["linestyle"] = SEED_STYLES[ln.get("seed_index", 0) % len(SEED_STYLES)]
            label = ln["label"] + (" (diverged)" if ln["status"] == "diverged" else "")
            ax.plot(x, y, color=colour, linewidth=1.6, label=label, **style)
        if diverged:  # where it blew up: an x on the top edge (its values may be off the chart or NaN)
            blowups.append((int(y.size), ax.get_lines()[-1].get_color() if not many else "grey"))
    if many and norm is not None:
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, label=f"{selection} (trial colour)")
    values = finite_ok or finite_all
    if values:
        lo, hi = min(values), max(values)
        if metric.endswith("loss") and lo > 0 and hi / lo > LOG_RATIO:  # one bad trial would flatten the rest
            ax.set_yscale("log")
            ax.set_ylim(lo / 1.15, hi * 1.15)
        else:
            pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
            ax.set_ylim(lo - pad, hi + pad)
    if blowups:
        top = ax.get_ylim()[1]
        for epoch, colour in blowups:
            ax.scatter([epoch], [top], marker="x", s=70, color=colour, clip_on=False, zorder=6, linewidths=2)
        ax.scatter([], [], marker="x", color="grey", label="diverged (epoch where it stopped)")
    ax.set_xlabel("epoch")
    split = SPLIT_NAMES.get(metric.split("_")[0], metric.split("_")[0])
    ax.set_ylabel(f"{ACC_LABEL if metric.endswith('acc') else LOSS_LABEL}\non the {split}")
    ax.set_title(textwrap.fill(title, 70))  # titles naming several hyperparameters would run off the figure
    if 0 < max_epoch <= 20:
        ax.set_xticks(np.arange(1, max_epoch + 1))
    if lines and (many or len(lines) <= 4):
        ax.legend(fontsize=9, loc="best")
    elif lines:  # beside the plot: a legend of 5-10 entries inside it would hide the curves
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        fig.set_figwidth(fig.get_figwidth() + 2.6)
    return fig


def lr_figure(points: Sequence[RatePoint], metric: str, lr_key: str, *, title: str, seeds: int = 1) -> Figure:
    """Best ``metric`` (a loss) against the learning rate on a log axis, the rates as tick labels.

    One line per group of the other hyperparameters; rates where every trial diverged get a red ``x`` at
    the top of the plot labelled "diverged" (errors: a grey ``x`` labelled "error").
    """
    fig, ax = _figure(7.2, 4.5)
    groups = list(dict.fromkeys(p.group for p in points))
    cloud = len(groups) > MAX_RATE_GROUPS
    if cloud:
        groups = ["every trial"]
        points = [RatePoint(p.lr, "every trial", p.best, p.status, p.trials) for p in points]
    palette = plt.get_cmap("tab10")
    ok = [p.best for p in points if p.best is not None]
    lo, hi = (min(ok), max(ok)) if ok else (0.0, 1.0)
    log_y = lo > 0 and hi / lo > LOG_RATIO
    if log_y:
        ax.set_yscale("log")
        lo, hi = np.log10(lo), np.log10(hi)  # positions below are computed in decades, then mapped back
    span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.2
    failed = any(p.best is None for p in points)
    back = (lambda v: 10**v) if log_y else (lambda v: v)
    top = back(hi + 0.25 * span)  # where the diverged / error markers sit
    for gi, group in enumerate(groups):
        pts = [p for p in points if p.group == group]
        good = [p for p in pts if p.best is not None]
        colour = palette(gi % 10)
        if good and cloud:  # unrelated trials: no line between them
            ax.scatter([p.lr for p in good], [p.best for p in good], color=colour, label="one trial per point")
        elif good:
            ax.plot(
                [p.lr for p in good], [p.best for p in good], marker="o", color=colour, label=group or f"best {metric}"
            )
        for p in pts:
            if p.best is None:
                c = "#d62728" if p.status == "diverged" else "grey"
                ax.scatter([p.lr], [top], marker="x", s=80, color=c, zorder=5, linewidths=2)
                ax.annotate(
                    p.status, (p.lr, top), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8, color=c
                )
    statuses = {p.status for p in points if p.best is None}
    for status in sorted(statuses):  # one legend entry per kind of marker
        ax.scatter(
            [], [], marker="x", color="#d62728" if status == "diverged" else "grey", label=f"{status} (no finite loss)"
        )
    ax.set_xscale("log")
    rates = sorted({p.lr for p in points})
    if len(rates) <= 12:
        ax.set_xticks(rates, labels=[format_value(r) for r in rates])
        ax.minorticks_off()
    ax.set_ylim(back(lo - 0.1 * span), back(hi + 0.4 * span) if failed else back(hi + 0.1 * span))
    ax.set_xlabel(f"learning rate ({lr_key}, log scale)")
    split = metric.split("_")[0]
    pooled = f", mean of {seeds} seeds" if seeds > 1 else ""
    ax.set_ylabel(f"best {SPLIT_NAMES.get(split, split)} loss over epochs\n(cross-entropy{pooled})")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def _axis(key: str, spec: Any, values: list[Any]) -> dict[str, Any]:
    """How one parallel-coordinates axis maps values to [0, 1]: categorical, log or linear."""
    present = [v for v in values if v is not None]
    if is_categorical(present):
        order = [format_value(v) for v in spec] if isinstance(spec, list) else []
        for v in present:
            if format_value(v) not in order:
                order.append(format_value(v))
        n = len(order)
        pos = {c: (i / (n - 1) if n > 1 else 0.5) for i, c in enumerate(order)}
        return {
            "key": key,
            "kind": "categorical",
            "pos": lambda v: pos.get(format_value(v), np.nan),
            "ticks": [(pos[c], c) for c in order],
        }
    nums = [float(v) for v in present]
    log = is_log_key(key, spec, present)
    f = np.log10 if log else (lambda x: x)
    lo, hi = (float(f(min(nums))), float(f(max(nums)))) if nums else (0.0, 1.0)

    def pos_of(v: Any) -> float:
        if v is None:
            return np.nan
        return 0.5 if hi == lo else (float(f(float(v))) - lo) / (hi - lo)

    distinct = sorted(set(nums))
    if len(distinct) <= 7:
        ticks = [(pos_of(v), format_value(v)) for v in distinct]
    else:
        raw = np.linspace(lo, hi, 5)
        ticks = [((r - lo) / (hi - lo), format_value(float(10**r if log else r))) for r in raw]
    return {"key": key, "kind": "log" if log else "linear", "pos": pos_of, "ticks": ticks}


def parallel_axes(
    trials: Sequence[Mapping[str, Any]], space: Mapping[str, Any], metric: str, extra: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The axes, left to right: every space key, then the selection metric and any ``extra`` final metrics."""
    axes = [_axis(k, space.get(k), [t.get("params", {}).get(k) for t in trials]) for k in space]
    for m in [metric, *(e for e in extra if e != metric)]:
        vals = [selection_value(t) if m == metric else (t.get("final") or {}).get(m) for t in trials]
        vals = [v * display_scale(m) if isinstance(v, int | float) and math.isfinite(v) else None for v in vals]
        axis = _axis(m, None, vals)
        axis["kind"] = "metric"
        axes.append(axis)
    return axes


def parallel_figure(
    trials: Sequence[Mapping[str, Any]],
    space: Mapping[str, Any],
    metric: str,
    mode: str,
    *,
    title: str,
    extra: Sequence[str] = (),
) -> Figure:
    """Parallel coordinates: one vertical axis per hyperparameter (log for rates and log-uniform keys,
    categories for strings), then the selection metric; one polyline per trial coloured by the metric.
    Trials without a metric (diverged, error) are grey dashed lines ending at "diverged / error" on top."""
    axes = parallel_axes(trials, space, metric, extra)
    n = len(axes)
    fig, ax = _figure(max(7.0, 1.7 * n + 2.2), 4.8)
    raw = [selection_value(t) for t in trials]
    scores = [None if s is None else s * display_scale(metric) for s in raw]  # accuracies in %, as on the axis
    ok = [s for s in scores if s is not None]
    norm = _norm(ok)
    cmap = metric_cmap(mode)
    fail_y = 1.1
    order = sorted(
        range(len(trials)),
        key=lambda i: (scores[i] is not None, 0 if scores[i] is None else (-scores[i] if mode == "min" else scores[i])),
    )
    for i in order:  # worst first, best drawn last (on top)
        t = trials[i]
        ys = []
        for a in axes:
            if a["kind"] == "metric":
                m = a["key"]
                v = raw[i] if m == metric else (t.get("final") or {}).get(m)
                ok_value = isinstance(v, int | float) and math.isfinite(v)
                ys.append(a["pos"](v * display_scale(m)) if ok_value else fail_y)
            else:
                ys.append(a["pos"](t.get("params", {}).get(a["key"])))
        if scores[i] is None:
            ax.plot(range(n), ys, color="grey", linestyle="--", linewidth=1, alpha=0.8)
        else:
            ax.plot(range(n), ys, color=cmap(norm(scores[i])), linewidth=1.8, alpha=0.9)
    for j, a in enumerate(axes):
        ax.axvline(j, color="black", linewidth=0.8)
        last = j == n - 1  # the metric axis: labels on its right, clear of the lines arriving from the left
        for y, label in a["ticks"]:
            if np.isfinite(y):
                ax.text(
                    j + 0.03 if last else j - 0.03,
                    y,
                    label,
                    ha="left" if last else "right",
                    va="center",
                    fontsize=7.5,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5},
                )
    if any(s is None for s in scores):
        ax.text(n - 1 + 0.03, fail_y, "diverged / error", ha="left", va="center", fontsize=7.5, color="#b00020")
    names = short_names([a["key"] for a in axes])
    labels = [names[a["key"]] + (" (log)" if a["kind"] == "log" else "") for a in axes]
    ax.set_xticks(range(n), labels=labels)
    ax.set_xlim(-0.6, n - 1 + 0.6)
    ax.set_ylim(-0.06, 1.18 if any(s is None for s in scores) else 1.06)
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label=metric_label(metric, mode) if ok else f"{metric} (no trial finished)")
    fig.suptitle(title, fontsize=11)
    ax.set_xlabel("one vertical axis per hyperparameter, then the metrics")
    return fig


def _norm(values: Sequence[float]) -> Normalize:
    """Colour scale over ``values``; a single value gets a small range around it (a readable colorbar)."""
    if not values:
        return Normalize(0, 1)
    lo, hi = min(values), max(values)
    if hi > lo:
        return Normalize(lo, hi)
    half = 0.01 * abs(lo) or 0.5
    return Normalize(lo - half, lo + half)
