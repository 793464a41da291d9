"""CSV records with their exact text, and atomic writes.

Extraction sheets must diff cleanly: a write may not reformat a cell it did
not change. The standard :mod:`csv` module does not say how a field was
written, so records are split here (RFC 4180: fields separated by commas,
optionally in double quotes with ``""`` for a quote, records ending in LF or
CRLF, line breaks allowed inside quotes) keeping, for every record, its raw
text and which fields were quoted. Unchanged records are written back byte
for byte; changed ones reuse each field's original quoting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Record:
    """One CSV record.

    Attributes
    ----------
    fields : tuple of str
        Field values, unquoted.
    quoted : tuple of bool
        Whether each field was written in quotes.
    raw : str
        The record's exact text, including its line ending (if any).
    line : int
        1-based line where the record starts.
    """

    fields: tuple[str, ...]
    quoted: tuple[bool, ...]
    raw: str
    line: int

    @property
    def blank(self) -> bool:
        return not any(f.strip() for f in self.fields)


class CSVSyntaxError(ValueError):
    def __init__(self, line: int, message: str):
        self.line, self.message = line, message
        super().__init__(f"line {line}: {message}")


def split_records(text: str) -> list[Record]:
    """Split CSV text into records, keeping each record's raw text.

    Raises
    ------
    CSVSyntaxError
        A quote that is never closed, or text after a closing quote.
    """
    records: list[Record] = []
    i, n, line = 0, len(text), 1
    while i < n:
        start, start_line = i, line
        fields: list[str] = []
        quoted: list[bool] = []
        while True:  # one field per pass
            if i < n and text[i] == '"':
                i += 1
                buf = []
                while True:
                    j = text.find('"', i)
                    if j < 0:
                        raise CSVSyntaxError(start_line, "a quoted field is never closed")
                    buf.append(text[i:j])
                    line += text.count("\n", i, j)
                    if j + 1 < n and text[j + 1] == '"':
                        buf.append('"')
                        i = j + 2
                        continue
                    i = j + 1
                    break
                fields.append("".join(buf))
                quoted.append(True)
                if i < n and text[i] not in ",\r\n":
                    raise CSVSyntaxError(line, "text after a closing quote")
            else:
                j = i
                while j < n and text[j] not in ",\r\n":
                    j += 1
                fields.append(text[i:j])
                quoted.append(False)
                i = j
            if i < n and text[i] == ",":
                i += 1
                continue
            break
        if text.startswith("\r\n", i):
            i += 2
        elif i < n and text[i] in "\r\n":
            i += 1
        line += 1
        records.append(Record(tuple(fields), tuple(quoted), text[start:i], start_line))
    return records


def needs_quotes(value: str) -> bool:
    return any(c in value for c in ',"\r\n')


def format_field(value: str, quote: bool) -> str:
    if quote or needs_quotes(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def format_record(fields: Iterable[str], quoted: Iterable[bool], newline: str) -> str:
    return ",".join(format_field(v, q) for v, q in zip(fields, quoted)) + newline


from .._io import StaleFileError, atomic_write, sha256  # noqa: E402,F401  (re-exported)
