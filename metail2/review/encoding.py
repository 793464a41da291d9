"""Which text encoding a record file is in, and decoding that never invents a character.

One rule for PubMed XML, MEDLINE and RIS files (:func:`decide`):

1. a byte-order mark decides (UTF-8, UTF-16, UTF-32);
2. in XML, the encoding declaration decides (``<?xml version="1.0" encoding="ISO-8859-1"?>``);
3. otherwise the file is UTF-8 when every byte of it is valid UTF-8;
4. otherwise it is cp1252 (Windows Latin-1; Latin-1 text is cp1252 too) when that can be
   proven from the whole file: every byte is a cp1252 character, and no byte sequence in
   it is a UTF-8 character (a file mixing UTF-8 and cp1252 proves nothing, and would
   otherwise come out as "Ã©");
5. otherwise it is read as UTF-8, and every record holding a byte that is not UTF-8 is
   refused, naming the file, the line, the column and the byte.

Nothing is ever replaced by U+FFFD: decoding uses ``errors="surrogateescape"``, which
carries an undecodable byte as a lone surrogate (no valid text holds one) until
:func:`undecodable` finds it and the record is refused. A U+FFFD that the file itself
holds (valid UTF-8 ``EF BF BD``) is the file's own character and is kept.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from ..errors import InputError

#: Byte-order marks, longest first (UTF-32 LE starts like UTF-16 LE), and the
#: codec that reads them (and drops the mark).
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARATION = re.compile(rb"\s*<\?xml\s[^>]*?\bencoding\s*=\s*([\"'])([A-Za-z][A-Za-z0-9._-]*)\1")
_UTF8_CHARACTER = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
                             rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
                             rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_ESCAPED = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Encoding:
    """How a file is decoded: the Python ``codec`` and, in words, ``how`` that was decided."""

    codec: str
    how: str

    @property
    def plain_utf8(self) -> bool:
        return self.codec == "utf-8" and self.how == "UTF-8"


def declared(head: bytes, xml: bool, name: str) -> Encoding | None:
    """The encoding a file's first bytes declare: a byte-order mark or, in
    XML, an encoding declaration; ``None`` when they declare none."""
    for bom, codec in BOMS:
        if head.startswith(bom):
            return Encoding(codec, f"{codec.replace('-sig', '').upper()} (byte-order mark)")
    m = _DECLARATION.match(head) if xml else None
    if m is None:
        return None
    label = m.group(2).decode("ascii")
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        raise InputError(f"{name}: declares the encoding {label!r}, which metail2 does not know; "
                         "save the file as UTF-8") from None
    return Encoding(codec, f"{label} (XML declaration)")


def valid_utf8(chunks: Iterable[bytes]) -> bool:
    """True when the bytes, read chunk by chunk, are valid UTF-8 as a whole."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def proven_cp1252(chunks: Iterable[bytes]) -> bool:
    """True when every byte is a cp1252 character and no byte sequence is a
    UTF-8 character (rule 4 of the module docstring)."""
    tail = b""
    for chunk in chunks:
        if _CP1252_UNDEFINED.search(chunk):
            return False
        data = tail + chunk
        if _UTF8_CHARACTER.search(data):
            return False
        tail = data[-3:]
    return True


def decide(head: bytes, xml: bool, name: str, chunks: Callable[[], Iterable[bytes]] | None,
           is_utf8: bool | None = None) -> Encoding:
    """The encoding of a file whose first bytes are ``head``, by the rule of
    the module docstring. ``chunks()`` reads the whole file again (``None``
    for a stream that cannot be re-read: then UTF-8 unless declared);
    ``is_utf8``, when known, saves a pass."""
    found = declared(head, xml, name)
    if found is not None:
        return found
    if is_utf8 is None:
        is_utf8 = valid_utf8(chunks()) if chunks is not None else True
    if is_utf8:
        return Encoding("utf-8", "UTF-8")
    if chunks is not None and proven_cp1252(chunks()):
        return Encoding("cp1252", "cp1252 (not UTF-8, and every byte is a cp1252 character)")
    return Encoding("utf-8", "UTF-8, except bytes that are not: the records holding them are refused")


def undecodable(text: str, first_line: int, encoding: Encoding, xml: bool = False) -> str | None:
    """Why a record's ``text`` (decoded with ``surrogateescape``, starting at
    line ``first_line``) cannot be stored, or ``None`` when every byte decoded."""
    m = _ESCAPED.search(text)
    if m is None:
        return None
    line = first_line + text.count("\n", 0, m.start())
    column = m.start() - text.rfind("\n", 0, m.start())
    fix = "save the file as UTF-8" + (" or declare its encoding (<?xml … encoding=…?>)" if xml else "")
    return (f"byte 0x{ord(m.group()) - 0xDC00:02X} at line {line}, column {column} is not "
            f"{encoding.codec.replace('-sig', '').upper()} text: record not stored ({fix})")


def read_chunks(path: str, size: int = 1 << 20) -> Callable[[], Iterable[bytes]]:
    """A function that reads the file at ``path`` again, chunk by chunk."""
    def chunks():
        with open(path, "rb") as f:
            while chunk := f.read(size):
                yield chunk
    return chunks


def file_encoding(path: str, xml: bool) -> Encoding:
    """The encoding of the file at ``path`` (reads it once or twice, in chunks)."""
    with open(path, "rb") as f:
        head = f.read(4096)
    return decide(head, xml, path, read_chunks(path))


def decoded_records(path: str, chunks, issues: list, encoding: Encoding | None = None):
    """(where, text) of each record of a text export (MEDLINE, RIS), cut by
    ``chunks(fh)`` — an iterator of (first line, text) — from the file
    decoded by the rule of this module (or ``encoding``); a record holding
    bytes that rule cannot decode is skipped with a
    :class:`~metail2.review.records.ParseIssue` naming it."""
    from .records import ParseIssue

    enc = encoding or file_encoding(path, xml=False)
    with open(path, encoding=enc.codec, errors="surrogateescape", newline=None) as fh:
        for i, (line, chunk) in enumerate(chunks(fh), 1):
            where = f"record {i} (line {line})"
            bad = undecodable(chunk, line, enc)
            if bad:
                issues.append(ParseIssue(path, where, bad))
                continue
            yield where, chunk
