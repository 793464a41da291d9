"""Extraction sheets: CSV files in ``extraction/``, one row per study.

A :class:`Sheet` keeps every cell exactly as written (text), every column in
file order (unknown columns included) and, for each row, the line of the file
where it starts, so every number computed later can point back to its cell.
Reading uses the standard library's :mod:`csv`; pandas is imported only when
a DataFrame is asked for (:attr:`Sheet.frame`), which keeps the command line
fast.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from .errors import Problem, SheetError

#: Cells read as "not reported". Anything else that is not a number is an error.
MISSING = frozenset({"", "NA", "N/A", "na", "n/a"})


@dataclass(frozen=True)
class Row:
    """One data row of a sheet.

    Attributes
    ----------
    line : int
        1-based line of the file where the row starts (header = line 1).
    cells : Mapping[str, str]
        Column name -> cell text, exactly as in the file (read-only).
    """

    line: int
    cells: Mapping[str, str]

    @property
    def study_id(self) -> str:
        return self.cells.get("study_id", "").strip()

    def text(self, column: str) -> str:
        """The cell's text with surrounding whitespace removed ('' if absent)."""
        return (self.cells.get(column) or "").strip()

    def is_missing(self, column: str) -> bool:
        return self.text(column) in MISSING


@dataclass(frozen=True)
class Sheet:
    """An extraction sheet as read from disk (or built from a DataFrame).

    Attributes
    ----------
    path : str
        Where it came from, as the user named it (used in every message).
    columns : tuple of str
        Header, in file order.
    rows : tuple of Row
        Data rows in file order; blank lines are skipped.
    """

    path: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def frame(self):
        """The sheet as a pandas DataFrame of strings (cells as written)."""
        import pandas as pd

        return pd.DataFrame([dict(r.cells) for r in self.rows], columns=list(self.columns))

    @classmethod
    def from_frame(cls, frame: Any, name: str = "<DataFrame>") -> "Sheet":
        """Build a sheet from a pandas DataFrame (row i is reported as line i + 2)."""
        columns = tuple(str(c) for c in frame.columns)
        rows = []
        for i, values in enumerate(frame.itertuples(index=False, name=None)):
            cells = {c: _cell_text(v) for c, v in zip(columns, values)}
            rows.append(Row(line=i + 2, cells=MappingProxyType(cells)))
        return cls(path=name, columns=columns, rows=tuple(rows))

    def __len__(self) -> int:
        return len(self.rows)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def read_sheet(path: str | os.PathLike) -> Sheet:
    """Read an extraction sheet (CSV, UTF-8, header row).

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    Sheet

    Raises
    ------
    SheetError
        The file is missing, not UTF-8, has no header, a duplicated or empty
        column name, or a row with more cells than the header.
    """
    name = os.fspath(path)
    try:
        raw = open(name, "rb").read()
    except OSError as exc:
        raise SheetError([Problem(name, None, None, None, f"cannot read file: {exc.strerror}")]) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark, as Excel writes: harmless, dropped
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SheetError([Problem(name, line, None, None,
                                  f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                                  "save the sheet as CSV UTF-8")]) from None
    return parse_sheet(text, name)


def parse_sheet(text: str, name: str = "<string>") -> Sheet:
    """Parse CSV text as a sheet; see :func:`read_sheet`."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[Problem] = []
    try:
        header = next(reader)
    except StopIteration:
        raise SheetError([Problem(name, None, None, None, "empty file: no header row")]) from None
    columns = tuple(h.strip() for h in header)
    seen: set[str] = set()
    for c in columns:
        if not c:
            problems.append(Problem(name, 1, None, None, "empty column name in the header"))
        elif c in seen:
            problems.append(Problem(name, 1, None, c, "column name appears twice in the header"))
        seen.add(c)
    rows = []
    start = reader.line_num + 1
    for values in reader:
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(columns):
            problems.append(Problem(name, line, None, None,
                                    f"{len(values)} cells but the header has {len(columns)} columns"))
            continue
        values = values + [""] * (len(columns) - len(values))
        rows.append(Row(line=line, cells=MappingProxyType(dict(zip(columns, values)))))
    if problems:
        raise SheetError(problems)
    return Sheet(path=name, columns=columns, rows=tuple(rows))
