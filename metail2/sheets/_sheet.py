"""Extraction sheets: CSV files in ``extraction/``, one row per study.

A :class:`Sheet` keeps every cell exactly as written (text), every column in
file order (unknown columns included), each row's line and raw text, and the
hash of the file it came from. :func:`check_sheet` validates a sheet against
the schema (:mod:`metail2.schema`) and reports every problem in one pass;
:func:`write_sheet` writes atomically, byte for byte where nothing changed,
and refuses to overwrite a file that changed on disk since it was read.
pandas is imported only when a DataFrame is asked for (:attr:`Sheet.frame`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from .csvio import CSVSyntaxError, Record, atomic_write, format_record, sha256, split_records
from ..errors import Problem, SheetError
from .._spreadsheet import is_plain_number


@dataclass(frozen=True)
class Row:
    """One data row of a sheet.

    Attributes
    ----------
    line : int
        1-based line of the file where the row starts (header = line 1).
    cells : Mapping[str, str]
        Column name -> cell text, exactly as in the file (read-only).
    record : Record or None
        The row's CSV record as read (its raw text and quoting); ``None`` for
        rows created or changed in memory.
    """

    line: int
    cells: Mapping[str, str]
    record: Record | None = field(default=None, repr=False, compare=False)

    @property
    def study_id(self) -> str:
        return self.cells.get("study_id", "").strip()

    def text(self, column: str) -> str:
        """The cell's text with surrounding whitespace removed ('' if absent)."""
        return (self.cells.get(column) or "").strip()


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
        Data rows in file order; blank lines are not rows.
    header : Record or None
        The header record as read.
    newline : str
        Line ending of the file (``"\\r\\n"`` or ``"\\n"``), kept on write.
    bom : bool
        The file started with a UTF-8 byte-order mark.
    blank_lines : tuple of int
        Lines that held an empty record (reported as warnings, kept on write).
    sha256 : str or None
        Hash of the file's bytes when read; writes refuse to replace a file
        whose hash changed since.
    """

    path: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    header: Record | None = field(default=None, repr=False, compare=False)
    newline: str = "\n"
    bom: bool = False
    blank_lines: tuple[int, ...] = ()
    sha256: str | None = field(default=None, repr=False, compare=False)
    blank_records: tuple[Record, ...] = field(default=(), repr=False, compare=False)

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

    def with_cells(self, changes: Mapping[tuple[int, str], str]) -> "Sheet":
        """A new sheet with some cells changed: ``{(row_index, column): text}``.

        Columns not yet in the sheet are appended to the header; rows not
        touched keep their raw text.
        """
        columns = list(self.columns)
        for _, col in changes:
            if col not in columns:
                columns.append(col)
        columns = tuple(columns)
        style = _quote_all_text(self)
        rows = list(self.rows)
        touched = set()
        for (i, col), text in changes.items():
            r = rows[i]
            if r.cells.get(col, "") == text and col in self.columns:
                continue
            cells = dict(r.cells)
            cells[col] = text
            rows[i] = Row(r.line, MappingProxyType(cells), r.record)
            touched.add(i)
        for i, r in enumerate(rows):
            if i in touched or columns != self.columns:
                rows[i] = Row(r.line, r.cells, _retag(r.record, self.columns, columns, r.cells, style))
        header = self.header
        if columns != self.columns and header is not None:
            flags = dict(zip(self.columns, header.quoted))
            header = Record(columns, tuple(flags.get(c, style) for c in columns), "", 1)
        return replace(self, columns=columns, rows=tuple(rows), header=header)

    def to_csv_text(self) -> str:
        """The sheet as CSV text: unchanged records byte for byte, changed ones
        with each field's original quoting, new fields quoted in the file's style."""
        style = _quote_all_text(self)
        out = []
        if self.header is not None and self.header.raw and tuple(self.header.fields) == self.columns:
            out.append(_with_newline(self.header.raw, self.newline))
        elif self.header is not None and tuple(self.header.fields) == self.columns:
            out.append(format_record(self.columns, self.header.quoted, self.newline))
        else:
            out.append(format_record(self.columns, [style] * len(self.columns), self.newline))
        blanks = {r.line: r for r in self.blank_records}
        for row in self.rows:
            while blanks and min(blanks) < row.line:
                out.append(_with_newline(blanks.pop(min(blanks)).raw, self.newline))
            out.append(_row_text(row, self.columns, self.newline, style))
        for line in sorted(blanks):
            out.append(_with_newline(blanks[line].raw, self.newline))
        text = "".join(out)
        ends = [r for r in self.blank_records if not self.rows or r.line > self.rows[-1].line]
        last = max(ends, key=lambda r: r.line) if ends else self.rows[-1].record if self.rows else self.header
        if last is not None and last.raw and not last.raw.endswith(("\n", "\r")):  # the file ended without one
            text = text[: -len(self.newline)] if text.endswith(self.newline) else text
        return text


def _with_newline(raw: str, newline: str) -> str:
    return raw if raw.endswith(("\n", "\r")) else raw + newline


def _retag(record: Record | None, old_cols, new_cols, cells, style: bool) -> Record | None:
    """Keep the original quoting of each field for a changed row (raw dropped);
    a new field is quoted in the file's style."""
    if record is None:
        return None
    quoted = dict(zip(old_cols, record.quoted))
    values = tuple(cells.get(c, "") for c in new_cols)
    flags = tuple(quoted[c] if c in quoted else (style and v != "" and not _is_number(v))
                  for c, v in zip(new_cols, values))
    return Record(values, flags, "", record.line)


def _quote_all_text(sheet: Sheet) -> bool:
    """True for sheets whose header is fully quoted (R's write.csv style):
    then new text cells are quoted and numbers are not."""
    return bool(sheet.header is not None and sheet.header.quoted and all(sheet.header.quoted))


def _row_text(row: Row, columns, newline: str, style: bool) -> str:
    rec = row.record
    if rec is not None and rec.raw and tuple(rec.fields) == tuple(row.cells.get(c, "") for c in columns) \
            and len(rec.fields) == len(columns):
        return _with_newline(rec.raw, newline)
    values = [row.cells.get(c, "") for c in columns]
    if rec is not None and len(rec.quoted) == len(columns):
        quoted = list(rec.quoted)
    else:
        quoted = [style and not _is_number(v) for v in values]
    return format_record(values, quoted, newline)


def _is_number(text: str) -> bool:
    return is_plain_number(text.strip())


def _cell_text(value: Any) -> str:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


# --------------------------------------------------------------------------- reading

def parse_sheet(raw: bytes | str, name: str = "<string>") -> Sheet:
    """Parse CSV bytes (or text) as a sheet; see :func:`read_sheet`."""
    digest = sha256(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    bom = False
    if isinstance(raw, bytes):
        if raw.startswith(b"\xef\xbb\xbf"):
            raw, bom = raw[3:], True
        elif raw.startswith(b"PK\x03\x04"):
            raise SheetError([Problem(name, None, None, None, "is a zip file (an .xlsx workbook?), not a CSV sheet: "
                                      "`metail2 sheet import WORKBOOK.xlsx --csv SHEET.csv` converts a workbook")])
        elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise SheetError([Problem(name, 1, None, None, "the file is UTF-16 (a byte-order mark says so); "
                                      "save it as CSV UTF-8")])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SheetError([Problem(name, line, None, None,
                                      f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
                                      "save the sheet as CSV UTF-8")]) from None
    else:
        text = raw
    try:
        records = split_records(text)
    except CSVSyntaxError as exc:
        raise SheetError([Problem(name, exc.line, None, None, f"malformed CSV: {exc.message}")]) from None
    if not records or records[0].blank:
        raise SheetError([Problem(name, 1, None, None, "no header row")])
    header, records = records[0], records[1:]
    newline = "\r\n" if header.raw.endswith("\r\n") else "\n"
    problems: list[Problem] = []
    columns = tuple(h.strip() for h in header.fields)
    seen: set[str] = set()
    for c, h in zip(columns, header.fields):
        if not c:
            problems.append(Problem(name, 1, None, None, "empty column name in the header"))
        elif c in seen:
            problems.append(Problem(name, 1, None, c, "column name appears twice in the header"))
        elif c != h:
            problems.append(Problem(name, 1, None, c, "stray whitespace around the column name", "warning"))
        seen.add(c)
    rows, blanks = [], []
    for rec in records:
        if rec.blank:
            blanks.append(rec)
            continue
        if len(rec.fields) > len(columns):
            problems.append(Problem(name, rec.line, rec.fields[0].strip() or None, None,
                                    f"{len(rec.fields)} cells but the header has {len(columns)} columns"))
            continue
        values = list(rec.fields) + [""] * (len(columns) - len(rec.fields))
        rows.append(Row(rec.line, MappingProxyType(dict(zip(columns, values))), rec))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise SheetError(errors)
    return Sheet(name, columns, tuple(rows), header, newline, bom, tuple(r.line for r in blanks), digest,
                 tuple(blanks))


# --------------------------------------------------------------------------- writing

def write_sheet(sheet: Sheet, path: str | os.PathLike | None = None, *, force: bool = False, writer=None) -> None:
    """Write a sheet atomically (temporary file in the same directory, then
    ``os.replace``).

    Rows and columns keep their order, unknown columns are kept, unchanged
    rows are written byte for byte. When writing back to the file the sheet
    was read from, the write is refused (:class:`~metail2.csvio.StaleFileError`)
    if that file changed on disk since, unless ``force``.
    """
    target = os.fspath(path) if path is not None else sheet.path
    data = (b"\xef\xbb\xbf" if sheet.bom else b"") + sheet.to_csv_text().encode("utf-8")
    same = os.path.abspath(target) == os.path.abspath(sheet.path)
    atomic_write(target, data, expected_sha256=sheet.sha256 if same and not force else None, writer=writer)


def rows_to_csv(columns: Iterable[str], newline: str = "\n") -> str:
    cols = list(columns)
    return format_record(cols, [False] * len(cols), newline)


__all__ = ["Row", "Sheet", "parse_sheet", "write_sheet", "rows_to_csv"]
