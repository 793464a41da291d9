"""The records export: JSON Lines, CSV or RIS, streamed.

:func:`write_records` writes the store's unique records (the fields of
:data:`~metail2.review.store.EXPORT_FIELDS`, read as they are written: never
the raw text, never the whole store in memory) to a text stream. The CSV is
bound for spreadsheets: a cell a spreadsheet would read as a formula (``=``,
``+``, ``-``, ``@``, tab, carriage return) gets a leading ``'``
(:func:`metail2._spreadsheet.neutralise`, undone by ``restore``).
"""
from __future__ import annotations

import csv
import json
from typing import Iterable, TextIO

from .._spreadsheet import neutralise
from .ris import iter_ris_text
from .store import EXPORT_FIELDS

FORMATS = ("jsonl", "csv", "ris")


def _csv_cell(v) -> str:
    if v is None:
        return ""
    return neutralise("; ".join(v) if isinstance(v, list) else str(v))


def write_records(rows: Iterable[dict], fmt: str, out: TextIO) -> int:
    """Write ``rows`` (dicts with the export fields) to ``out`` as ``fmt``;
    return how many were written."""
    n = 0
    if fmt == "jsonl":
        for n, r in enumerate(rows, 1):
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "ris":
        for n, text in enumerate(iter_ris_text(rows), 1):
            out.write(text)
    elif fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(EXPORT_FIELDS)
        for n, r in enumerate(rows, 1):
            w.writerow([_csv_cell(r[k]) for k in EXPORT_FIELDS])
    else:
        raise ValueError(f"export format {fmt!r} is not one of {', '.join(FORMATS)}")
    return n
