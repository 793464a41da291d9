"""Excel round trip for extraction sheets (openpyxl, loaded late).

``export_xlsx`` writes the sheet to a workbook reviewers can edit: a styled,
frozen header; numbers typed as numbers in numeric columns; a drop-down list
(data validation) on categorical columns; the codebook on a second
worksheet; and, on a hidden worksheet, each row's original CSV text.
``import_xlsx`` reads it back: a row whose cells all still equal the
originals is written with its original text, byte for byte; a changed row
keeps the original text of every cell that did not change. So CSV → xlsx →
CSV returns the identical file, and an edit in Excel changes only the cells
edited.
"""
from __future__ import annotations

import datetime
import json
import os
from types import MappingProxyType

from .csvio import Record, atomic_write, split_records
from ..errors import Problem, SheetError
from .schema import BY_NAME, COLUMNS, parse_number
from ._sheet import Row, Sheet, write_sheet

DATA, CODEBOOK, HIDDEN = "data", "codebook", "_metail2"


def _typed(column: str, text: str):
    spec = BY_NAME.get(column)
    t = text.strip()
    if spec is not None and spec.numeric and t == text:
        try:
            x = parse_number(t)
        except ValueError:
            return text
        if x is None:
            return None if t == "" else text
        return int(x) if x.is_integer() and "." not in t and "e" not in t.lower() else x
    return text if text != "" else None


def export_xlsx(sheet: Sheet, path: str | os.PathLike) -> None:
    """Write ``sheet`` to an .xlsx workbook (atomically)."""
    import io

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
    # JSON strings: cells of a workbook do not keep carriage returns
    hid.append(["metail2 original CSV records (JSON strings); do not edit", json.dumps(sheet.newline),
                "bom" if sheet.bom else ""])
    hid.append(["header", json.dumps(sheet.header.raw if sheet.header else "")])
    for row in sheet.rows:
        hid.append([row.study_id, json.dumps(row.record.raw if row.record else "")])
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
    if isinstance(value, (datetime.datetime, datetime.date)):
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
    return str(value) == original


def import_xlsx(path: str | os.PathLike, name: str | None = None) -> Sheet:
    """Read a workbook written by :func:`export_xlsx` (or any workbook whose
    first worksheet has a header row) back into a :class:`Sheet`."""
    from openpyxl import load_workbook

    path = os.fspath(path)
    try:
        wb = load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds
        raise SheetError([Problem(path, None, None, None, f"cannot read workbook: {exc}")]) from None
    ws = wb[DATA] if DATA in wb.sheetnames else wb.worksheets[0]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    while values and all(v is None for v in values[-1]):
        values.pop()
    if not values:
        raise SheetError([Problem(path, None, None, None, "the workbook's first worksheet is empty")])
    columns = tuple(_text(v).strip() for v in values[0])
    while columns and columns[-1] == "":
        columns = columns[:-1]
    newline, bom, header, originals = "\n", False, None, {}
    if HIDDEN in wb.sheetnames:
        meta = [list(r) + [None, None, None] for r in wb[HIDDEN].iter_rows(values_only=True)]
        newline = json.loads(meta[0][1]) or "\n"
        bom = meta[0][2] == "bom"
        hdr = split_records(json.loads(meta[1][1]))
        header = hdr[0] if hdr else None
        for sid, raw in ((m[0], json.loads(m[1])) for m in meta[2:]):
            if raw:
                originals.setdefault(_text(sid), []).append(split_records(raw)[0])
    if header is not None and tuple(header.fields) != columns:
        header = None
    rows = []
    for i, vals in enumerate(values[1:], start=2):
        vals = (list(vals) + [None] * len(columns))[: len(columns)]
        if all(v is None for v in vals):
            continue
        cells = dict(zip(columns, (_text(v) for v in vals)))
        sid = cells.get("study_id", "").strip()
        record = None
        candidates = originals.get(sid) or []
        if candidates:
            orig = candidates.pop(0)
            ofields = dict(zip(header.fields if header else columns, orig.fields))
            for c, v in zip(columns, vals):
                if c in ofields and _same(c, ofields[c], v):
                    cells[c] = ofields[c]
            unchanged = header is not None and tuple(cells[c] for c in columns) == tuple(orig.fields)
            record = orig if unchanged else Record(tuple(cells[c] for c in columns),
                                                    tuple(dict(zip(header.fields, orig.quoted)).get(c, False)
                                                          for c in columns) if header else (), "", orig.line)
        rows.append(Row(record.line if record else i, MappingProxyType(cells), record))
    return Sheet(name or path, columns, tuple(rows), header, newline, bom)


def xlsx_to_csv(xlsx: str | os.PathLike, csv_path: str | os.PathLike, *, force: bool = False) -> Sheet:
    """Import a workbook and write it as a CSV sheet (atomically)."""
    sheet = import_xlsx(xlsx, name=os.fspath(csv_path))
    if os.path.exists(csv_path) and not force:
        raise SheetError([Problem(os.fspath(csv_path), None, None, None,
                                  "exists; pass --force to replace it")])
    write_sheet(sheet, csv_path, force=True)
    return sheet
