"""What comes before an XML document's root element, checked before anything is parsed.

Only white space, comments, processing instructions and one DOCTYPE may come
before the root element. A DOCTYPE may name an external DTD (NCBI's replies
do; it is never fetched: expat does not load external DTDs) but may not carry
an internal subset (``<!DOCTYPE x [ … ]>``): that is where entities are
declared (the "billion laughs" and external-entity attacks), and neither NCBI
nor PubMed's exports ever send one, so every internal subset is refused with
the line it is on. The prolog is read token by token — a comment is skipped
whole, so a ``<x`` inside a comment is not taken for the root element — not
searched for a pattern. A declaration found later in a document
(:data:`DECLARATION`) is refused where it is found (:mod:`.pubmed_xml`).
"""
from __future__ import annotations

import re

from ..errors import InputError

#: The most text read looking for the root element (PubMed's prologs are a few hundred bytes).
MAX_PROLOG = 1 << 20
#: A markup declaration: legitimate only inside a DTD, refused anywhere in a document.
DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b", re.I)
_NAME = re.compile(r"[A-Za-z_:][\w.:-]*")


class NotXMLError(InputError):
    """A reply or file that is not XML (an HTML page, ASN.1 text, ...)."""


class DTDRefused(InputError):
    """An XML document that declares a DTD internal subset (entities)."""


def sniff_xml(head: bytes, name: str) -> None:
    """Raise :class:`NotXMLError` unless the bytes start like an XML document
    (a quick check of an HTTP body before it is parsed)."""
    h = head.lstrip()[:200].lower()
    if h.startswith(b"\xef\xbb\xbf"):
        h = h[3:]
    if not h.startswith(b"<") or h.startswith((b"<!doctype html", b"<html")) or b"<html" in h[:100]:
        raise NotXMLError(f"{name}: not XML (starts with {head.lstrip()[:40]!r})")


def _line(text: str, i: int) -> int:
    return text.count("\n", 0, i) + 1


def _doctype_end(text: str, i: int, name: str) -> int:
    """The index just after the DOCTYPE starting at ``i``, or -1 when ``text``
    ends inside it; an internal subset is refused."""
    quote = None
    for k in range(i + 9, len(text)):
        c = text[k]
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "[":
            raise DTDRefused(f"{name}: line {_line(text, k)}: the DOCTYPE declares an internal DTD subset "
                             "(entity declarations): refused; PubMed never sends one, and its entities could "
                             "expand without bound or read local files")
        elif c == ">":
            return k + 1
    return -1


def scan_prolog(text: str, name: str, final: bool) -> tuple[int, str] | None:
    """Where the root element starts in ``text`` (offset of its ``<``, its tag).

    Returns ``None`` when ``text`` ends inside the prolog and more is needed;
    with ``final`` (there is no more), a document without a root element is
    refused. Raises :class:`DTDRefused` for a DTD internal subset or a
    declaration outside a DOCTYPE, :class:`NotXMLError` for anything that is
    not an XML prolog (an HTML page, text).
    """
    i, n = (1 if text.startswith("\ufeff") else 0), len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        rest = text[i:i + 9]
        if i >= n or (len(rest) < 9 and not final and any(t.startswith(rest) for t in ("<!DOCTYPE", "<!--", "<?"))):
            break  # more is needed
        if rest.startswith("<?") or rest.startswith("<!--"):
            close = "?>" if rest.startswith("<?") else "-->"
            end = text.find(close, i + 2)
            if end < 0:
                break
            i = end + len(close)
        elif rest.upper() == "<!DOCTYPE":
            if text[i + 9:i + 14].strip().lower().startswith("html"):
                raise NotXMLError(f"{name}: not XML (an HTML page)")
            i = _doctype_end(text, i, name)
            if i < 0:
                break
        elif DECLARATION.match(text, i):
            raise DTDRefused(f"{name}: line {_line(text, i)}: a markup declaration outside a DOCTYPE "
                             f"({text[i:i + 20]!r}...): refused")
        elif rest.startswith("<") and (m := _NAME.match(text, i + 1)):
            if m.end() == n and not final:
                break  # the tag may go on
            if m.group().lower() == "html":
                raise NotXMLError(f"{name}: not XML (an HTML page)")
            return i, m.group()
        elif rest == "<" and not final:
            break
        else:
            raise NotXMLError(f"{name}: not XML (starts with {text[i:i + 40]!r})")
    if final:
        raise NotXMLError(f"{name}: no root element: not an XML document, or cut off before it")
    return None
