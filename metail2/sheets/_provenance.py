"""What an exported workbook remembers of its CSV, and what changed in the CSV since.

``metail2 sheet export`` writes a hidden worksheet, ``_metail2``:

- row 1: a title cell, the CSV's line ending (JSON), ``bom`` or empty,
  ``sha256:<hex>`` of the CSV's bytes as exported, ``source:<path>`` and
  ``layout:2``;
- row 2: ``header`` and the header record's exact text;
- row 3: ``blank lines`` and, as a JSON array, the line and exact text of
  each empty record (absent in workbooks written before ``layout:2``);
- one row per data row: its ``study_id`` and, as a JSON array, the line it
  starts on and its record's exact text.

Record texts are JSON strings (a workbook cell does not keep a carriage
return), split over as many cells as needed to stay under a spreadsheet
cell's 32,767 characters. Import uses the records to write unchanged cells
byte for byte, and the hash to refuse replacing a CSV that was edited after
the export (:func:`changes_since` names the rows that differ).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

from ..errors import Problem, SheetError
from ._sheet import Sheet, parse_sheet
from .csvio import Record, split_records

HIDDEN = "_metail2"
TITLE = "metail2 original CSV records (JSON strings); do not edit"
CHUNK = 32_000


@dataclass(frozen=True)
class Provenance:
    """The hidden worksheet's content (see the module doc).

    ``sha256`` is ``None`` for a workbook exported before hashes were
    recorded; ``damaged`` says why the worksheet could not be read (then
    nothing else is trusted).
    """

    sha256: str | None = None
    source: str | None = None
    newline: str = "\n"
    bom: bool = False
    header: Record | None = None
    originals: tuple[tuple[str, Record], ...] = ()
    damaged: str | None = None
    blanks: tuple[Record, ...] = ()


def _chunks(text: str) -> list[str]:
    return [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def write_provenance(ws, sheet: Sheet) -> None:
    """Fill the (hidden) worksheet ``ws`` for ``sheet``."""
    ws.append([TITLE, json.dumps(sheet.newline), "bom" if sheet.bom else "",
               f"sha256:{sheet.sha256}" if sheet.sha256 else "", f"source:{sheet.path}", "layout:2"])
    ws.append(["header", *_chunks(json.dumps(sheet.header.raw if sheet.header else ""))])
    ws.append(["blank lines", *_chunks(json.dumps([[r.line, r.raw] for r in sheet.blank_records]))])
    for row in sheet.rows:
        ws.append([row.study_id, *_chunks(json.dumps([row.line, row.record.raw if row.record else ""]))])


def _joined(row) -> str:
    return "".join(str(v) for v in row[1:] if v is not None)


def read_provenance(ws) -> Provenance:
    """Read the worksheet written by :func:`write_provenance` (a damaged one
    gives ``Provenance(damaged=…)``, never an exception)."""
    try:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        first = rows[0] + [None] * 6
        newline = json.loads(first[1]) or "\n"
        if newline not in ("\n", "\r\n", "\r"):
            raise ValueError(f"line ending {newline!r}")
        tags = {str(v).split(":", 1)[0]: str(v).split(":", 1)[1] for v in first[3:] if v and ":" in str(v)}
        header_text = json.loads(_joined(rows[1]))
        header = split_records(header_text)[0] if header_text else None
        blanks = []
        if tags.get("layout") == "2":
            blanks = [Record(("",), (False,), raw, int(line)) for line, raw in json.loads(_joined(rows[2]))]
        originals = []
        for r in rows[3 if tags.get("layout") == "2" else 2:]:
            item = json.loads(_joined(r) or '""')
            line, raw = item if isinstance(item, list) else (None, item)  # older workbooks: the text alone
            if raw:
                rec = split_records(raw)[0]
                originals.append(("" if r[0] is None else str(r[0]).strip(),
                                  replace(rec, line=int(line)) if line is not None else rec))
        return Provenance(tags.get("sha256") or None, tags.get("source"), newline, first[2] == "bom", header,
                          tuple(originals), blanks=tuple(blanks))
    except (ValueError, TypeError, IndexError, AttributeError) as exc:  # JSON, CSV or layout
        return Provenance(damaged=f"its hidden worksheet {HIDDEN} was edited or is damaged ({exc})")


def _key(fields: dict) -> tuple[str, str, str]:
    return tuple(" ".join((fields.get(c) or "").split()) for c in ("study_id", "outcome", "analysis"))


def changes_since(prov: Provenance, current: bytes, csv_name: str) -> list[Problem]:
    """The rows of ``current`` (the CSV's bytes now) that differ from the
    records the workbook was exported from: changed (with their columns),
    added, deleted, and a changed header."""
    try:
        now = parse_sheet(current, csv_name)
    except SheetError as exc:
        return [Problem(csv_name, None, None, None, "no longer reads as a sheet, so rows cannot be compared: "
                        + str(exc.problems[0]))]
    hdr = tuple(prov.header.fields) if prov.header else now.columns
    out: list[Problem] = []
    if now.header is not None and tuple(now.header.fields) != hdr:
        out.append(Problem(csv_name, 1, None, None, "header changed since the export"))
    before: dict[tuple, list[tuple[dict, Record]]] = {}
    for _, rec in prov.originals:
        fields = dict(zip((h.strip() for h in hdr), rec.fields))
        before.setdefault(_key(fields), []).append((fields, rec))
    for row in now.rows:
        cells = dict(row.cells)
        old = before.get(_key(cells))
        if not old:
            out.append(Problem(csv_name, row.line, row.study_id or None, None, "added since the export"))
            continue
        fields, _ = old.pop(0)
        differ = [c for c in dict.fromkeys([*fields, *cells]) if fields.get(c, "") != cells.get(c, "")]
        if differ:
            out.append(Problem(csv_name, row.line, row.study_id or None, None,
                               f"changed since the export ({', '.join(differ)})"))
    for rest in before.values():
        for fields, rec in rest:
            out.append(Problem(csv_name, None, (fields.get("study_id") or "").strip() or None, None,
                               f"deleted since the export (was line {rec.line})"))
    if not out:
        out.append(Problem(csv_name, None, None, None, "changed since the export (line endings, blank lines or "
                           "a byte-order mark; no row differs)"))
    return out
