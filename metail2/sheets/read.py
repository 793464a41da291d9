"""Reading a sheet from disk, checked."""
from __future__ import annotations

import os

from ..errors import Problem, SheetError
from ._sheet import Sheet, parse_sheet
from .check import check_sheet


def read_sheet(path: str | os.PathLike, *, validate: bool = True) -> Sheet:
    """Read an extraction sheet (CSV, UTF-8, header row).

    Parameters
    ----------
    path : str or path-like
    validate : bool
        Run :func:`check_sheet` and raise on any error (warnings are kept in
        the check, not raised).

    Returns
    -------
    Sheet

    Raises
    ------
    SheetError
        With every problem: unreadable or non-UTF-8 file, malformed CSV, a
        header with empty or duplicated names, rows with more cells than the
        header, and (``validate``) every schema error.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SheetError([Problem(name, None, None, None, f"cannot read file: {exc.strerror}")]) from None
    sheet = parse_sheet(raw, name)
    if validate:
        check_sheet(sheet).raise_for_errors()
    return sheet
