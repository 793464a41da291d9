"""Problems with input data, and the warning category metail2 uses.

Every problem names the file, the line, the study and the column it concerns,
so a reviewer can go straight to the cell. Problems are collected in one pass
and raised together (:class:`SheetError`), never one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in an extraction sheet.

    Attributes
    ----------
    file : str
        Path of the sheet as given by the user.
    line : int or None
        1-based line of the CSV file where the row starts (the header is line 1);
        ``None`` for problems of the whole sheet.
    study_id : str or None
        The row's ``study_id`` (``None`` for sheet-level problems).
    column : str or None
        The column concerned (``None`` when no single column is).
    message : str
        What is wrong, in words a reviewer can act on.
    severity : {"error", "warning"}
        Errors stop pooling; warnings are reported and change nothing.
    """

    file: str
    line: int | None
    study_id: str | None
    column: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.study_id is not None:
            parts.append(self.study_id)
        if self.column is not None:
            parts.append(self.column)
        parts.append(self.message if self.severity == "error" else f"{self.severity}: {self.message}")
        return ": ".join(parts)


class MetailError(Exception):
    """Base class of metail2's errors; ``exit_code`` is what the command line
    returns for it (2 bad input or usage, 3 a store problem, 4 the network)."""

    exit_code = 2


class InputError(MetailError, ValueError):
    """Bad input or usage that is not a sheet's (a file, an option)."""


class NotComputable(MetailError, ArithmeticError):
    """A statistic cannot be computed from these numbers (they lie beyond what
    double precision can pool); the message says why."""


class StoreError(MetailError):
    """The records store cannot be used: corrupt, newer schema, locked,
    read-only when writing, missing."""

    exit_code = 3


class NetworkError(MetailError):
    """The network gave out (tries exhausted); what was fetched is kept."""

    exit_code = 4


class SheetError(MetailError, ValueError):
    """An extraction sheet (or the request made of it) cannot be used.

    ``problems`` holds every problem found, in file order.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class MetailWarning(UserWarning):
    """A result was computed but deserves the reader's attention
    (k = 1, an estimator that did not converge and used its fallback, ...)."""
