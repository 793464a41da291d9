"""Cells bound for spreadsheets: formula neutralisation, the plain-number
grammar, and the limits of a spreadsheet cell (the bottom layer, shared by the
extraction sheets and the review's exports).

A spreadsheet (Excel, LibreOffice, Google Sheets) that opens a CSV file reads
a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula, including a
DDE call (``=cmd|' /C calc'!A0``) or ``=HYPERLINK(…)`` that leaks data when
clicked (OWASP, "CSV injection"). :func:`neutralise` makes such a cell inert
by prefixing ``'``, which spreadsheets read as "this is text" and do not
display; :func:`restore` is its exact inverse, so a file written with
``neutralise`` and read back with ``restore`` is unchanged. In an .xlsx
workbook no prefix is needed: write every text cell as a string cell, never a
formula.

Examples
--------
>>> neutralise("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralise("-1.5"), neutralise("- see table 2")
('-1.5', "'- see table 2")
>>> restore(neutralise("'=already quoted")) == "'=already quoted"
True
"""
from __future__ import annotations

import re

#: A cell starting with one of these is a formula (or may become one) in a
#: spreadsheet: OWASP's list (``= + - @``, tab, carriage return) and the
#: full-width forms that some spreadsheets also accept as formula starters.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: The plain-decimal number grammar: an optional sign, ASCII digits with an
#: optional decimal point (``12``, ``-1.5``, ``.5``, ``5.``), an optional
#: exponent (``1e-5``). No digit grouping, underscores, hexadecimal,
#: ``inf``/``nan``, non-ASCII digits or surrounding space.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

#: Most characters a spreadsheet cell holds (Excel; longer text is cut).
MAX_CELL_CHARS = 32_767
#: Most rows and columns of an Excel worksheet.
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384

# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def is_plain_number(text: str) -> bool:
    """True when ``text`` is a number in the plain-decimal grammar (:data:`PLAIN_NUMBER`)."""
    return PLAIN_NUMBER.fullmatch(text) is not None


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START) and not is_plain_number(text)


def neutralise(text: str) -> str:
    """``text`` made safe for a CSV file a spreadsheet will open.

    A cell a spreadsheet would read as a formula (starting with ``= + - @``,
    a tab or a carriage return, or their full-width forms) gets a leading
    ``'``; so does a cell that already starts with ``'`` followed by any
    number of ``'`` and such a character, so that :func:`restore` can undo
    exactly what was done. A plain number (``-1.5``, ``+3``) is a number, not
    a formula, and is left alone.
    """
    if _formula_like(text) or (text.startswith("'") and _formula_like(text.lstrip("'"))):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The inverse of :func:`neutralise`: ``restore(neutralise(t)) == t`` for every ``t``."""
    if text.startswith("'") and _formula_like(text.lstrip("'")):
        return text[1:]
    return text


def cell_problem(text: str) -> str | None:
    """Why ``text`` cannot be a spreadsheet cell, or ``None``.

    Refused: control characters (tab, line feed and carriage return are
    allowed; in a CSV file the last two only inside a quoted cell) and text
    longer than :data:`MAX_CELL_CHARS`, which a spreadsheet would cut.
    """
    m = _CONTROL.search(text)
    if m is not None:
        return (f"control character U+{ord(m.group()):04X} at character {m.start() + 1}: "
                "remove it (it cannot be stored in a spreadsheet and is usually a paste accident)")
    if len(text) > MAX_CELL_CHARS:
        return (f"{len(text):,} characters, more than a spreadsheet cell holds ({MAX_CELL_CHARS:,}): "
                "shorten it or move the text to a file and give its path")
    return None


__all__ = ["FORMULA_START", "PLAIN_NUMBER", "MAX_CELL_CHARS", "MAX_ROWS", "MAX_COLUMNS", "is_plain_number",
           "neutralise", "restore", "cell_problem"]
