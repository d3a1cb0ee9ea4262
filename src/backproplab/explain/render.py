"""Render a `Derivation` as plain text, Markdown or JSON.

Text and Markdown round numbers to ``precision`` decimals (display only); JSON keeps every number at full
precision (non-finite numbers become ``null``) so that other programs can check the values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .document import Derivation, Figure, Note, Quantity, Table

FORMATS = ("text", "markdown", "json")
_INLINE_WIDTH = 100  # vectors longer than this (as text) go on their own line


def render(derivation: Derivation, format: str = "text", precision: int = 4) -> str:
    """The derivation as ``text``, ``markdown`` or ``json``."""
    if format not in FORMATS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}; got {format!r}")
    if int(precision) < 0:
        raise ValueError(f"precision must be >= 0; got {precision}")
    if format == "json":
        return json.dumps(to_json_dict(derivation), indent=2, allow_nan=False)
    renderer = _Text(int(precision)) if format == "text" else _Markdown(int(precision))
    return renderer.document(derivation)


# -- numbers -----------------------------------------------------------------------------------------------
def format_number(value: Any, precision: int) -> str:
    """Integers as integers, floats rounded to ``precision`` decimals (no ``-0.0000``), strings unchanged."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if value is None:
        return "-"
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v != 0 and abs(v) < 0.5 * 10.0**-precision:  # would print as 0.0000: show its size instead
        return f"{v:.{max(precision - 1, 1)}e}"
    return f"{round(v, precision) + 0.0:.{precision}f}"


def _cells(array: np.ndarray, precision: int) -> list[str]:
    return [format_number(v.item() if hasattr(v, "item") else v, precision) for v in array.reshape(-1)]


def format_vector(values: Any, precision: int) -> str:
    return "[" + ", ".join(_cells(np.asarray(values), precision)) + "]"


def _grid(
    array: np.ndarray, precision: int, row_labels: Sequence[str] | None, col_labels: Sequence[str] | None
) -> list[str]:
    """Lines of a right-aligned matrix, with optional row and column labels."""
    rows, cols = array.shape
    cells = np.array(_cells(array, precision), dtype=object).reshape(rows, cols)
    col_heads = list(col_labels) if col_labels is not None else None
    width = max([len(c) for c in cells.reshape(-1)] + [len(h) for h in (col_heads or [])] + [1])
    lead = max((len(r) for r in row_labels), default=0) if row_labels is not None else 0
    lines = []
    if col_heads is not None:
        lines.append(" " * (lead + 2 if lead else 1) + "  ".join(h.rjust(width) for h in col_heads))
    for i in range(rows):
        body = "  ".join(c.rjust(width) for c in cells[i])
        if row_labels is not None:
            lines.append(f"{row_labels[i].rjust(lead)}  {body}")
        else:
            open_, close = ("[[" if i == 0 else " [", "]]" if i == rows - 1 else "]")
            lines.append(f"{open_}{body}{close}")
    return lines


def _natural(key: str) -> list[Any]:
    """Sort key putting w2 before w10."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def entry_lines(q: Quantity, precision: int, width: int = _INLINE_WIDTH) -> list[str]:
    """``name = value`` pairs of a quantity's named entries (when no labelled grid already shows them)."""
    if not q.entries or q.row_labels is not None:
        return []
    pairs = [f"{k} = {format_number(q.entries[k], precision)}" for k in sorted(q.entries, key=_natural)]
    lines, line = [], ""
    for pair in pairs:
        if line and len(line) + len(pair) + 2 > width:
            lines.append(line)
            line = ""
        line = f"{line}, {pair}" if line else pair
    return lines + [line]


def _shape_text(q: Quantity) -> str:
    shape = q.shape
    if len(shape) == 0:
        return ""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# -- text ----------------------------------------------------------------------------------------------------
class _Text:
    def __init__(self, precision: int) -> None:
        self.p = precision

    def document(self, d: Derivation) -> str:
        out = [d.title, "=" * len(d.title)]
        if d.summary:
            out += ["", d.summary]
        for section in d.sections:
            out += ["", section.title, "-" * len(section.title)]
            for item in section.items:
                out += self.item(item)
        return "\n".join(out) + "\n"

    def item(self, item: Any) -> list[str]:
        if isinstance(item, Quantity):
            return self.quantity(item)
        if isinstance(item, Table):
            return self.table(item)
        if isinstance(item, Note):
            indent = "    " if item.preformatted else "  "
            return [f"{indent}{line}" for line in item.text.splitlines()]
        assert isinstance(item, Figure)
        return [f"  [figure] {item.caption + ': ' if item.caption else ''}{item.path}"]

    def quantity(self, q: Quantity) -> list[str]:
        shape = _shape_text(q)
        head = f"  {q.label}" + (f" {shape}" if shape else "") + (f" = {q.formula}" if q.formula else "")
        value = q.value
        lines: list[str]
        if isinstance(value, str) or np.ndim(value) == 0:
            scalar = value if isinstance(value, str) else np.asarray(value).item()
            lines = [f"{head} = {format_number(scalar, self.p)}"]
        elif np.ndim(value) == 1 and q.col_labels is None:
            vec = format_vector(value, self.p)
            lines = [f"{head} = {vec}"] if len(head) + len(vec) < _INLINE_WIDTH else [head, f"      = {vec}"]
        else:
            arr = np.asarray(value)
            if arr.ndim == 1:
                arr = arr.reshape(1, -1)
            elif arr.ndim > 2:
                arr = arr.reshape(-1, arr.shape[-1])
            lines = [head] + [f"      {line}" for line in _grid(arr, self.p, q.row_labels, q.col_labels)]
        lines += [f"      {line}" for line in entry_lines(q, self.p)]
        if q.note:
            lines.append(f"      ({q.note})")
        return lines

    def table(self, t: Table) -> list[str]:
        cells = [[format_number(v, self.p) for v in row] for row in t.rows]
        widths = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(t.columns)]
        numeric = [all(not isinstance(row[j], str) for row in t.rows) for j in range(len(t.columns))]

        def line(values: list[str]) -> str:
            parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
            return "  " + "  ".join(parts).rstrip()

        out = [f"  {t.title}"] if t.title else []
        out.append(line(list(t.columns)))
        out.append("  " + "  ".join("-" * w for w in widths))
        out += [line(r) for r in cells]
        return out


# -- markdown ------------------------------------------------------------------------------------------------
def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


class _Markdown:
    def __init__(self, precision: int) -> None:
        self.p = precision

    def document(self, d: Derivation) -> str:
        out = [f"## {d.title}"]
        if d.summary:
            out += ["", d.summary]
        for section in d.sections:
            out += ["", f"### {section.title}", ""]
            for item in section.items:
                out += self.item(item)
        lines: list[str] = []
        for line in out:  # at most one blank line in a row
            if line or (lines and lines[-1]):
                lines.append(line)
        return "\n".join(lines).rstrip() + "\n"

    def item(self, item: Any) -> list[str]:
        if isinstance(item, Quantity):
            return self.quantity(item)
        if isinstance(item, Table):
            return self.table(item)
        if isinstance(item, Note):
            return ["", "```", item.text, "```", ""] if item.preformatted else ["", item.text, ""]
        assert isinstance(item, Figure)
        return ["", f"![{item.caption or item.key}]({item.path})", ""]

    def quantity(self, q: Quantity) -> list[str]:
        shape = _shape_text(q)
        head = f"- `{q.label}`" + (f" {shape}" if shape else "") + (f" = `{q.formula}`" if q.formula else "")
        note = f" ({q.note})" if q.note else ""
        value = q.value
        if isinstance(value, str) or np.ndim(value) == 0:
            v = value if isinstance(value, str) else np.asarray(value).item()
            return [f"{head} = **{format_number(v, self.p)}**{note}"]
        if np.ndim(value) == 1 and q.col_labels is None:
            named = [f"  - {line}" for line in entry_lines(q, self.p, width=10**6)]
            return [f"{head} = {format_vector(value, self.p)}{note}"] + named
        arr = np.asarray(value)
        arr = arr.reshape(1, -1) if arr.ndim == 1 else arr.reshape(-1, arr.shape[-1])
        cols = list(q.col_labels) if q.col_labels is not None else [str(j) for j in range(arr.shape[1])]
        rows = list(q.row_labels) if q.row_labels is not None else [str(i) for i in range(arr.shape[0])]
        cells = np.array(_cells(arr, self.p), dtype=object).reshape(arr.shape)
        table = ["", "| | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        table += [f"| {rows[i]} | " + " | ".join(cells[i]) + " |" for i in range(arr.shape[0])]
        named = [f"  - {line}" for line in entry_lines(q, self.p, width=10**6)]
        return [f"{head}{note}:"] + named + table + [""]

    def table(self, t: Table) -> list[str]:
        out = ["", f"**{t.title}**", ""] if t.title else [""]
        out.append("| " + " | ".join(_md_escape(c) for c in t.columns) + " |")
        out.append(
            "|"
            + "|".join("---" if any(isinstance(r[j], str) for r in t.rows) else "---:" for j in range(len(t.columns)))
            + "|"
        )
        out += ["| " + " | ".join(_md_escape(format_number(v, self.p)) for v in row) + " |" for row in t.rows]
        return out + [""]


# -- json ------------------------------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """Numbers, strings, arrays, lists and dicts as plain JSON types; non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot put a {type(value).__name__} into JSON")


def _item_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, Quantity):
        d: dict[str, Any] = {
            "type": "quantity",
            "key": item.key,
            "name": item.label,
            "formula": item.formula,
            "shape": list(item.shape),
            "value": jsonable(item.value),
        }
        if item.note:
            d["note"] = item.note
        if item.row_labels is not None:
            d["row_labels"] = list(item.row_labels)
        if item.col_labels is not None:
            d["col_labels"] = list(item.col_labels)
        if item.entries is not None:
            d["entries"] = jsonable(item.entries)
        return d
    if isinstance(item, Table):
        return {
            "type": "table",
            "key": item.key,
            "title": item.title,
            "columns": item.columns,
            "rows": jsonable(item.rows),
        }
    if isinstance(item, Note):
        return {"type": "note", "text": item.text, "preformatted": item.preformatted}
    return {"type": "figure", "key": item.key, "path": item.path, "caption": item.caption}


def to_json_dict(d: Derivation) -> dict[str, Any]:
    """``{"problem", "title", "summary", "values": {key: value}, "sections": [...]}`` at full precision."""
    return {
        "problem": d.name,
        "title": d.title,
        "summary": d.summary,
        "values": jsonable(d.values()),
        "sections": [{"title": s.title, "items": [_item_dict(i) for i in s.items]} for s in d.sections],
    }
