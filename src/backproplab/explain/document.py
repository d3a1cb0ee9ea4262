"""A derivation as data: titled sections of named quantities, tables, notes and figures.

Every worked example (networks and classic models alike) is built as a `Derivation` and rendered by
`backproplab.explain.render` as text, Markdown or JSON. Values keep full precision here; they are rounded only
when rendered as text or Markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Quantity:
    """One named value with the formula that produced it.

    ``value`` is a number, a string or an array of any shape. ``row_labels``/``col_labels`` label the rows and
    columns of a matrix in a course's own indexing (e.g. ``j=1``, ``m=0``); ``entries`` maps indexed names
    (``beta_{2,1}``) to numbers, for readers who look values up by the course's indices.
    """

    key: str
    value: Any
    formula: str = ""
    name: str = ""
    note: str = ""
    row_labels: Sequence[str] | None = None
    col_labels: Sequence[str] | None = None
    entries: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.value)) if not isinstance(self.value, str) else ()


@dataclass
class Table:
    """Rows of values under named columns (numbers and strings)."""

    key: str
    columns: list[str]
    rows: list[list[Any]]
    title: str = ""

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class Note:
    """A sentence of explanation between quantities (``preformatted``: keep line breaks, e.g. a text tree)."""

    text: str
    preformatted: bool = False


@dataclass
class Figure:
    """A picture written to disk (PNG)."""

    key: str
    path: str
    caption: str = ""


Item = Quantity | Table | Note | Figure


@dataclass
class Section:
    title: str
    items: list[Item] = field(default_factory=list)

    def quantity(self, key: str, value: Any, formula: str = "", **kwargs: Any) -> Quantity:
        q = Quantity(key, value, formula, **kwargs)
        self.items.append(q)
        return q

    def table(self, key: str, columns: list[str], rows: list[list[Any]], title: str = "") -> Table:
        t = Table(key, list(columns), [list(r) for r in rows], title)
        self.items.append(t)
        return t

    def note(self, text: str, preformatted: bool = False) -> Note:
        n = Note(text, preformatted)
        self.items.append(n)
        return n

    def figure(self, key: str, path: str, caption: str = "") -> Figure:
        f = Figure(key, str(path), caption)
        self.items.append(f)
        return f


@dataclass
class Derivation:
    """A worked example: ``name`` (e.g. ``hw-643``), a title, a summary and its sections in order."""

    name: str
    title: str
    summary: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s

    def __repr__(self) -> str:
        return (
            f"Derivation({self.name!r}, {len(self.sections)} sections, {len(self.items())} items; "
            ".render('text') shows them, .values() has them by name)"
        )

    def items(self) -> list[Item]:
        return [item for s in self.sections for item in s.items]

    def values(self) -> dict[str, Any]:
        """Every quantity, named entry, table and figure by key (tables as lists of row dicts). Keys are unique."""
        out: dict[str, Any] = {}
        for item in self.items():
            if isinstance(item, Note):
                continue
            if item.key in out:
                raise ValueError(f"derivation {self.name!r}: key {item.key!r} is used twice")
            if isinstance(item, Quantity):
                out[item.key] = item.value
                for name, v in (item.entries or {}).items():  # course-indexed entries, e.g. beta_{2,1}
                    if name in out:
                        raise ValueError(f"derivation {self.name!r}: entry {name!r} is used twice")
                    out[name] = v
            elif isinstance(item, Table):
                out[item.key] = item.records()
            else:
                out[item.key] = item.path
        return out

    def __getitem__(self, key: str) -> Any:
        values = self.values()
        if key not in values:
            raise KeyError(f"{key!r} is not a quantity of {self.name!r}; known keys: {', '.join(values)}")
        return values[key]

    def render(self, format: str = "text", precision: int = 4) -> str:
        from .render import render

        return render(self, format=format, precision=precision)

    def to_dict(self) -> dict[str, Any]:
        from .render import to_json_dict

        return to_json_dict(self)
