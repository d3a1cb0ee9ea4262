"""Categorical tables for ID3 and random forests: read from CSV, or built in (those of the course HW3 Intro to ML)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .._text import read_utf8
from ..errors import DatasetError

# The course's 15-row phone-usage table (Relationship, Age, Education, Income -> Usage).
PHONE_USAGE_CSV = """\
Relationship,Age,Education,Income,Usage
Single,>25,University,<=50K,Low
In a relationship,<=25,College,<=50K,Medium
Single,>25,University,>50K,Low
Married,<=25,University,<=50K,High
Single,>25,University,>50K,Low
Married,>25,College,<=50K,Medium
In a relationship,<=25,College,>50K,Medium
In a relationship,>25,High School,<=50K,Low
Married,>25,University,<=50K,High
Single,>25,High School,>50K,Low
In a relationship,<=25,College,>50K,Medium
In a relationship,>25,High School,<=50K,Low
Married,>25,University,<=50K,High
Single,<=25,High School,>50K,Low
In a relationship,<=25,College,>50K,Medium
"""

# The course's 8-row sickness table (Age, Social distancing, Hand washing -> Getting sick).
SICKNESS_CSV = """\
Age,Social distancing,Hand washing,Getting sick
Old,Yes,Yes,No
Old,Yes,No,No
Old,Yes,Yes,No
Young,No,No,Yes
Young,Yes,Yes,No
Old,No,No,Yes
Old,No,Yes,Yes
Old,No,No,Yes
"""


@dataclass(frozen=True)
class CategoricalTable:
    """Rows of category names under named columns; ``target`` is the column to predict.

    ``features`` are the other columns in file order. Values are compared as strings, exactly as written.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    target: str
    name: str = ""

    def __post_init__(self) -> None:
        if self.target not in self.columns:
            raise ValueError(f"target column {self.target!r} is not one of the columns {list(self.columns)}")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"column names must be unique; got {list(self.columns)}")
        for i, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {i} has {len(row)} values; the table has {len(self.columns)} columns {list(self.columns)}"
                )

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c != self.target)

    def column(self, name: str) -> list[str]:
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; the columns are {list(self.columns)}")
        j = self.columns.index(name)
        return [row[j] for row in self.rows]

    @property
    def labels(self) -> list[str]:
        return self.column(self.target)

    def classes(self) -> list[str]:
        """Target classes in order of first appearance (the order ties are broken in)."""
        return list(dict.fromkeys(self.labels))

    def values(self, feature: str) -> list[str]:
        """Values of ``feature`` in order of first appearance."""
        return list(dict.fromkeys(self.column(feature)))

    def __len__(self) -> int:
        return len(self.rows)


def parse_csv(text: str, *, target: str | None = None, name: str = "", source: str = "<text>") -> CategoricalTable:
    """A table from CSV text with a header row; the target defaults to the last column."""
    reader = csv.reader(io.StringIO(text))
    lines = [[cell.strip() for cell in row] for row in reader if any(cell.strip() for cell in row)]
    if len(lines) < 2:
        raise DatasetError(f"{source}: expected a header row and at least one data row; got {len(lines)} row(s)")
    header, body = lines[0], lines[1:]
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DatasetError(
                f"{source}: line {i} has {len(row)} values but the header has {len(header)} "
                f"columns ({', '.join(header)})"
            )
    target = header[-1] if target is None else target
    if target not in header:
        raise DatasetError(f"{source}: target column {target!r} not found; the columns are {', '.join(header)}")
    return CategoricalTable(tuple(header), tuple(tuple(r) for r in body), target, name)


def read_csv(path: str | Path, *, target: str | None = None) -> CategoricalTable:
    path = Path(path)
    text = read_utf8(path, "file", DatasetError)
    return parse_csv(text, target=target, name=path.stem, source=str(path))


BUILTIN_TABLES = {"phone-usage": PHONE_USAGE_CSV, "sickness": SICKNESS_CSV}


def builtin_table(name: str) -> CategoricalTable:
    """``phone-usage`` (15 rows) or ``sickness`` (8 rows)."""
    if name not in BUILTIN_TABLES:
        raise KeyError(f"unknown built-in table {name!r}; available: {', '.join(BUILTIN_TABLES)}")
    return parse_csv(BUILTIN_TABLES[name], name=name, source=f"built-in table {name}")


def load_table(name_or_path: str | Path, *, target: str | None = None) -> CategoricalTable:
    """A built-in table by name or a CSV file by path."""
    if str(name_or_path) in BUILTIN_TABLES:
        table = builtin_table(str(name_or_path))
        return table if target is None else CategoricalTable(table.columns, table.rows, target, table.name)
    return read_csv(name_or_path, target=target)
