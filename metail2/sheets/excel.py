"""Excel round trip for extraction sheets (openpyxl, loaded late).

``export_xlsx`` writes the sheet to a workbook reviewers can edit: a styled,
frozen header; numbers typed as numbers in numeric columns; every other cell
a string cell — never a formula, so a cell such as ``=HYPERLINK(…)`` or
``=cmd|…`` stays inert text; a drop-down list (data validation) on
categorical columns; the codebook on a second worksheet; and, on a hidden
worksheet, the CSV's hash and each row's original text
(:mod:`metail2.sheets._provenance`). ``import_xlsx`` reads it back: a row
whose cells all still equal the originals is written with its original text,
byte for byte; a changed row keeps the original text of every cell that did
not change. So CSV → xlsx → CSV returns the identical file, and an edit in
Excel changes only the cells edited. ``xlsx_to_csv`` refuses to replace a CSV
that was edited after the export.
"""
from __future__ import annotations

import datetime
import io
import os
import warnings
import zipfile
from types import MappingProxyType

from .._spreadsheet import FORMULA_START, MAX_COLUMNS, MAX_ROWS, cell_problem
from ..errors import Problem, SheetError
from ._provenance import HIDDEN, Provenance, changes_since, read_provenance, write_provenance
from ._sheet import Row, Sheet
from .csvio import Record, atomic_write, sha256
from .schema import BY_NAME, COLUMNS, parse_number

DATA, CODEBOOK = "data", "codebook"


def _typed(column: str, text: str):
    """The workbook value of a cell: a number in a numeric column when Excel
    keeps it exactly (15 significant digits), else the text."""
    spec = BY_NAME.get(column)
    t = text.strip()
    if spec is not None and spec.numeric and t == text:
        try:
            x = parse_number(t)
        except ValueError:
            return text
        if x is None:
            return None if t == "" else text
        if x.is_integer() and "." not in t and "e" not in t.lower():
            return int(x) if abs(x) < 1e15 else text
        return x if float(f"{x:.15g}") == x else text
    return text if text != "" else None


def spreadsheet_problems(sheet: Sheet) -> list[Problem]:
    """Cells a workbook cannot hold: control characters, more than 32,767
    characters; and a sheet beyond a worksheet's rows or columns."""
    out = [Problem(sheet.path, 1, None, c, f"column name: {bad}") for c in sheet.columns
           if (bad := cell_problem(c)) is not None]
    for row in sheet.rows:
        for c in sheet.columns:
            bad = cell_problem(row.cells.get(c, ""))
            if bad is not None:
                out.append(Problem(sheet.path, row.line, row.study_id or None, c, bad))
    if len(sheet.rows) + 1 > MAX_ROWS or len(sheet.columns) > MAX_COLUMNS:
        out.append(Problem(sheet.path, None, None, None, f"{len(sheet.rows)} rows and {len(sheet.columns)} columns "
                           f"do not fit a worksheet ({MAX_ROWS - 1} rows, {MAX_COLUMNS} columns)"))
    return out


def _as_text(ws) -> None:
    """Every text cell of ``ws`` a string cell: openpyxl would make ``=…`` a
    formula and ``#N/A`` an error value. Cells a spreadsheet would read as a
    formula when retyped also get the quote prefix (shown as text in Excel)."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value.startswith(FORMULA_START):
                    cell.quotePrefix = True


def export_xlsx(sheet: Sheet, path: str | os.PathLike) -> None:
    """Write ``sheet`` to an .xlsx workbook (atomically).

    Raises
    ------
    SheetError
        A cell a workbook cannot hold (control character, over 32,767
        characters), every one named by line and column; nothing is written.
    """
    problems = spreadsheet_problems(sheet)
    if problems:
        raise SheetError(problems)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = DATA
    ws.append(list(sheet.columns))
    for row in sheet.rows:
        ws.append([_typed(c, row.cells.get(c, "")) for c in sheet.columns])
    bold = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="305496")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "B2"
    last = max(len(sheet.rows) + 1, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{last}"
    for j, col in enumerate(sheet.columns, 1):
        width = max([len(col)] + [len(r.cells.get(col, "")) for r in sheet.rows[:200]])
        ws.column_dimensions[get_column_letter(j)].width = min(max(8, width + 2), 60)
        spec = BY_NAME.get(col)
        letter = get_column_letter(j)
        if spec is not None and spec.allowed:
            dv = DataValidation(type="list", formula1='"' + ",".join(spec.allowed) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle=col,
                                error=f"{col} must be one of: {', '.join(spec.allowed)}")
            dv.add(f"{letter}2:{letter}{max(last, 1000)}")
            ws.add_data_validation(dv)
        elif spec is not None and spec.numeric:
            for cell in ws[letter][1:]:
                if isinstance(cell.value, float):
                    cell.number_format = "General"
    cb = wb.create_sheet(CODEBOOK)
    cb.append(["column", "group", "type", "allowed values", "unit", "meaning"])
    for c in COLUMNS:
        cb.append([c.name, c.group, c.kind + (" (required)" if c.required else ""), c.allowed_text(), c.unit,
                   c.meaning])
    for cell in cb[1]:
        cell.font, cell.fill = bold, fill
    for letter, width in zip("ABCDEF", (16, 24, 16, 36, 14, 90)):
        cb.column_dimensions[letter].width = width
    hid = wb.create_sheet(HIDDEN)
    hid.sheet_state = "hidden"
    write_provenance(hid, sheet)
    for w in (ws, cb, hid):
        _as_text(w)
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write(path, buf.getvalue())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def _same(column: str, original: str, value) -> bool:
    if value is None:
        return original.strip() == "" or original.strip() in ("NA",)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            x = parse_number(original)
        except ValueError:
            return False
        return x is not None and x == value
    # a workbook cell does not keep carriage returns
    return str(value) == original or str(value) == original.replace("\r\n", "\n").replace("\r", "\n")


def _open(path: str, data_only: bool, raw: bytes | None = None):
    """The workbook at ``path``, or a SheetError saying what the file is instead."""
    from openpyxl import load_workbook

    def refuse(why: str):
        return SheetError([Problem(path, None, None, None, why)])

    if raw is None:
        if os.path.isdir(path):
            raise refuse("is a directory, not an .xlsx workbook")
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as exc:
            raise refuse(f"cannot read workbook: {exc.strerror}") from None
    if not raw:
        raise refuse("is empty (0 bytes), not an .xlsx workbook")
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        what = "an old .xls or an encrypted workbook" if raw.startswith(b"\xd0\xcf\x11\xe0") else "not a zip file"
        raise refuse(f"is not an .xlsx workbook ({what}): save it from Excel as .xlsx")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops
            return load_workbook(io.BytesIO(raw), data_only=data_only), raw
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise refuse(f"cannot read workbook ({type(exc).__name__}: {exc})") from None


def read_workbook(path: str | os.PathLike, name: str | None = None) -> tuple[Sheet, Provenance | None]:
    """Read a workbook back into a :class:`Sheet`, with the export record of
    its hidden worksheet (``None`` for a workbook metail2 did not write).

    Raises
    ------
    SheetError
        Not an .xlsx workbook (a directory, an empty file, a CSV or .xls
        file); an empty first worksheet; header names empty (above data),
        repeated; a formula with no saved value, a spreadsheet error value
        (``#NAME?``), a control character: each named by worksheet row and
        column.
    """
    path = os.fspath(path)
    wb, raw = _open(path, data_only=False)
    ws = wb[DATA] if DATA in wb.sheetnames else wb.worksheets[0]
    cells = [list(r) for r in ws.iter_rows()]
    if any(c.data_type == "f" or not isinstance(c.value, (str, int, float, bool, type(None), datetime.date,
                                                           datetime.time, datetime.timedelta))
           for r in cells for c in r):  # formulas: read the values Excel saved with them
        cached = _open(path, True, raw)[0]
        cached_ws = cached[ws.title]
        values = [[(c.value, c.data_type, cv.value) for c, cv in zip(r, cr)]
                  for r, cr in zip(cells, cached_ws.iter_rows())]
    else:
        values = [[(c.value, c.data_type, c.value) for c in r] for r in cells]
    while values and all(v[0] is None for v in values[-1]):
        values.pop()
    if not values:
        raise SheetError([Problem(path, None, None, None, f"the workbook's worksheet {ws.title!r} is empty")])
    width = max(j + 1 for r in values for j, v in enumerate(r) if v[0] is not None)
    header = [_text(v[2]).strip() for v in values[0]] + [""] * width
    filled = {j for r in values[1:] for j, v in enumerate(r) if v[0] is not None}
    keep = [j for j in range(width) if header[j] or j in filled]  # drop empty, unnamed columns
    columns = tuple(header[j] for j in keep)
    problems = []
    for n, c in enumerate(columns):
        if not c:
            problems.append(Problem(path, 1, None, None, f"column {keep[n] + 1} holds values but has no name in "
                                    "the header row: name it, or delete its values"))
        elif columns.index(c) != n:
            problems.append(Problem(path, 1, None, c, "column name appears twice in the header"))
    prov = read_provenance(wb[HIDDEN]) if HIDDEN in wb.sheetnames else None
    good = prov is not None and prov.damaged is None
    hdr = prov.header if good and prov.header is not None and tuple(prov.header.fields) == columns else None
    originals: dict[str, list[Record]] = {}
    for sid, rec in (prov.originals if good else ()):
        originals.setdefault(sid, []).append(rec)
    rows = []
    for i, row in enumerate(values[1:], start=2):
        row = row + [(None, "n", None)] * width
        vals = [row[j] for j in keep]
        if all(v[0] is None for v in vals):
            continue
        cells = {c: _text(saved) for c, (_, _, saved) in zip(columns, vals)}
        sid = cells.get("study_id", "").strip()
        for c, (value, kind, saved) in zip(columns, vals):
            bad = cell_problem(cells[c])
            if kind == "f" and saved is None:
                bad = (f"a formula ({value}) with no value saved in the workbook: type the value itself, "
                       "or open and save the workbook in Excel")
            elif kind == "e" or (kind == "f" and isinstance(saved, str) and saved.startswith("#")):
                bad = (f"shows the spreadsheet error {saved or value}: type the value (to keep text that "
                       "starts with = + - @ as text, type ' before it)")
            if bad is not None:
                problems.append(Problem(path, i, sid or None, c, bad))
        record = None
        candidates = originals.get(sid) or []
        if candidates:
            orig = candidates.pop(0)
            ofields = dict(zip(hdr.fields if hdr else columns, orig.fields))
            for c, v in zip(columns, vals):
                if c in ofields and _same(c, ofields[c], v[2]):
                    cells[c] = ofields[c]
            unchanged = hdr is not None and tuple(cells[c] for c in columns) == tuple(orig.fields)
            record = orig if unchanged else Record(tuple(cells[c] for c in columns),
                                                    tuple(dict(zip(hdr.fields, orig.quoted)).get(c, False)
                                                          for c in columns) if hdr else (), "", orig.line)
        rows.append(Row(record.line if record else i, MappingProxyType(cells), record))
    if problems:
        raise SheetError(problems)
    newline, bom = (prov.newline, prov.bom) if good else ("\n", False)
    blanks = prov.blanks if good else ()
    return Sheet(name or path, columns, tuple(rows), hdr, newline, bom, tuple(b.line for b in blanks), None,
                 blanks), prov


def import_xlsx(path: str | os.PathLike, name: str | None = None) -> Sheet:
    """Read a workbook written by :func:`export_xlsx` (or any workbook whose
    first worksheet has a header row) back into a :class:`Sheet`."""
    return read_workbook(path, name)[0]


def xlsx_to_csv(xlsx: str | os.PathLike, csv_path: str | os.PathLike, *,
                force: bool = False) -> tuple[Sheet, Provenance | None]:
    """Import a workbook and write it as a CSV sheet (atomically); returns the
    sheet written and the workbook's export record (see :func:`read_workbook`).

    A new file is simply written. An existing CSV is replaced only when it is
    byte for byte the CSV the workbook was exported from (its SHA-256 is in
    the workbook); otherwise the import is refused, naming every row edited
    in the CSV since the export, unless ``force`` (which discards those
    edits). A workbook that does not record its CSV (exported by an older
    metail2, or not by metail2) needs ``force`` to replace an existing file.
    """
    xlsx, csv_path = os.fspath(xlsx), os.fspath(csv_path)
    sheet, prov = read_workbook(xlsx, name=csv_path)
    expected = None
    if os.path.lexists(csv_path):
        if os.path.isdir(csv_path):
            raise SheetError([Problem(csv_path, None, None, None, "is a directory: name the CSV file to write")])
        if os.path.exists(xlsx) and os.path.samefile(xlsx, csv_path):
            raise SheetError([Problem(csv_path, None, None, None, "is the workbook itself: name the CSV file")])
        try:
            with open(csv_path, "rb") as f:
                current = f.read()
        except OSError as exc:
            raise SheetError([Problem(csv_path, None, None, None, f"cannot read: {exc.strerror}")]) from None
        expected = sha256(current)
        if not force:
            _refuse_unless_unchanged(xlsx, csv_path, current, expected, prov)
    data = (b"\xef\xbb\xbf" if sheet.bom else b"") + sheet.to_csv_text().encode("utf-8")
    atomic_write(csv_path, data, expected_sha256=expected)
    return sheet, prov


def _refuse_unless_unchanged(xlsx: str, csv_path: str, current: bytes, digest: str, prov: Provenance | None):
    if prov is None or prov.damaged or prov.sha256 is None:
        why = ("was not exported by metail2" if prov is None else prov.damaged or
               "was exported by an older metail2 that did not record the CSV's hash")
        raise SheetError([Problem(csv_path, None, None, None, f"exists, and {xlsx} {why}: cannot tell whether "
                                  f"{csv_path} holds edits the workbook lacks; pass --force to replace it")])
    if prov.sha256 == digest:
        return
    found = changes_since(prov, current, csv_path)
    origin = "" if prov.source is None or os.path.basename(prov.source) == os.path.basename(csv_path) else \
        f" (the workbook was exported from {prov.source})"
    raise SheetError(found + [Problem(csv_path, None, None, None,
                                      f"changed since {xlsx} was exported from it{origin}: importing would discard "
                                      "those edits; copy them into the workbook and import again, or pass --force "
                                      "to discard them")])
