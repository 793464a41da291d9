"""PubMed XML (``PubmedArticleSet``), streamed record by record.

``iter_pubmed_xml`` parses a PubmedArticleSet with bounded memory (each
top-level record is cut out of the stream and parsed on its own), with no
DTD or network access: a DTD internal subset (entity declarations) is
refused wherever it is (:mod:`.xml_prolog`), and the text is decoded by the
rule of :mod:`.encoding` (a record holding bytes that are not text in the
file's encoding is refused, never stored with U+FFFD). Only an article's own identifiers are taken: the
PMID is ``MedlineCitation/PMID`` and the DOI and PMCID come from the
article's ``ELocationID`` or its ``PubmedData/ArticleIdList``, never from
``ReferenceList``, ``CommentsCorrections`` or any other nested element. Text
with inline markup (``<i>``, ``<sub>``, badly nested tags) comes out whole.
"""
from __future__ import annotations

import io
import os
import re
from typing import IO, Callable, Iterable, Iterator

from ..errors import InputError
from .encoding import Encoding, decide, read_chunks, undecodable
from .records import Deletion, ParseIssue, Record, normalize_doi, year_in
from .xml_prolog import DECLARATION, MAX_PROLOG, NotXMLError, scan_prolog


class NCBIErrorReply(InputError, RuntimeError):
    """An NCBI ``<ERROR>`` reply (``eFetchResult``) where records were expected."""


def _text(el) -> str:
    """All text inside an element, markup removed, whitespace collapsed."""
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def _year(pubdate) -> int | None:
    if pubdate is None:
        return None
    y = pubdate.findtext("Year")
    if y and y.strip().isdigit():
        return int(y)
    return year_in(pubdate.findtext("MedlineDate") or "")


def _article_ids(container) -> dict[str, str]:
    ids: dict[str, str] = {}
    if container is None:
        return ids
    for el in container.findall("ArticleIdList/ArticleId"):  # direct children only
        kind = (el.get("IdType") or "").lower()
        if el.text and kind not in ids:
            ids[kind] = el.text.strip()
    return ids


def _authors(author_list) -> tuple[str, ...]:
    out = []
    if author_list is None:
        return ()
    for a in author_list.findall("Author"):
        coll = a.find("CollectiveName")
        if coll is not None:
            out.append(_text(coll))
            continue
        last = _text(a.find("LastName"))
        initials = _text(a.find("Initials"))
        if last:
            out.append(f"{last} {initials}".strip())
    return tuple(out)


def _abstract(abstract) -> tuple[str, tuple[tuple[str, str], ...]]:
    if abstract is None:
        return "", ()
    sections = tuple(((t.get("Label") or "").strip(), _text(t)) for t in abstract.findall("AbstractText"))
    text = "\n".join(f"{label}: {body}" if label else body for label, body in sections)
    return text, sections


def _book(el, raw: str) -> Record:
    doc = el.find("BookDocument")
    book = doc.find("Book") if doc is not None else None
    pmid = (doc.findtext("PMID") or "").strip() if doc is not None else ""
    ids = _article_ids(el.find("PubmedBookData"))
    own = _article_ids(doc)
    title = _text(doc.find("ArticleTitle")) if doc is not None else ""
    if not title and book is not None:
        title = _text(book.find("BookTitle"))
    abstract, sections = _abstract(doc.find("Abstract") if doc is not None else None)
    authors = _authors(doc.find("AuthorList") if doc is not None else None)
    if not authors and book is not None:
        authors = _authors(book.find("AuthorList"))
    return Record(
        pmid=pmid or None, title=title, abstract=abstract, abstract_sections=sections, authors=authors,
        journal=_text(book.find("Publisher/PublisherName")) if book is not None else "",
        year=_year(book.find("PubDate")) if book is not None else None,
        doi=normalize_doi(own.get("doi") or ids.get("doi")), pmcid=ids.get("pmc"),
        publication_types=tuple(_text(p) for p in doc.findall("PublicationType")) if doc is not None else (),
        language=(doc.findtext("Language") or "").strip() if doc is not None else "",
        kind="book", raw=raw)


def parse_article(el, raw: str) -> Record:
    """A ``PubmedArticle`` or ``PubmedBookArticle`` element as a Record."""
    if el.tag == "PubmedBookArticle":
        return _book(el, raw)
    mc = el.find("MedlineCitation")
    art = mc.find("Article") if mc is not None else None
    pmid = (mc.findtext("PMID") or "").strip() if mc is not None else ""
    ids = _article_ids(el.find("PubmedData"))
    doi = None
    if art is not None:
        for loc in art.findall("ELocationID"):
            if loc.get("EIdType") == "doi" and loc.get("ValidYN", "Y") == "Y" and loc.text:
                doi = loc.text
                break
    doi = doi or ids.get("doi")
    journal = art.find("Journal") if art is not None else None
    ji = journal.find("JournalIssue") if journal is not None else None
    pages = ""
    if art is not None:
        pages = _text(art.find("Pagination/MedlinePgn"))
        if not pages:
            sp, ep = _text(art.find("Pagination/StartPage")), _text(art.find("Pagination/EndPage"))
            pages = f"{sp}-{ep}" if sp and ep else sp
    year = _year(ji.find("PubDate")) if ji is not None else None
    if year is None and art is not None:
        year = _year(art.find("ArticleDate"))
    abstract, sections = _abstract(art.find("Abstract") if art is not None else None)
    return Record(
        pmid=pmid or None,
        title=_text(art.find("ArticleTitle")) if art is not None else "",
        abstract=abstract, abstract_sections=sections,
        authors=_authors(art.find("AuthorList") if art is not None else None),
        journal=_text(journal.find("Title")) if journal is not None else "",
        year=year,
        volume=_text(ji.find("Volume")) if ji is not None else "",
        issue=_text(ji.find("Issue")) if ji is not None else "",
        pages=pages,
        doi=normalize_doi(doi), pmcid=ids.get("pmc"),
        mesh_terms=tuple(_text(d) for d in mc.findall("MeshHeadingList/MeshHeading/DescriptorName"))
        if mc is not None else (),
        publication_types=tuple(_text(p) for p in art.findall("PublicationTypeList/PublicationType"))
        if art is not None else (),
        language=(art.findtext("Language") or "").strip() if art is not None else "",
        raw=raw)


def _open(source) -> tuple[IO[bytes], str, bool, Callable[[], Iterable[bytes]] | None]:
    """(binary stream, name, whether to close it, a function reading it again or None)."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        return io.BytesIO(data), "<bytes>", True, lambda: iter((data,))
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        return open(name, "rb"), name, True, read_chunks(name)
    return source, getattr(source, "name", "<stream>"), False, None


_START = re.compile(r"<(PubmedArticle|PubmedBookArticle|DeleteCitation)[\s>]")


def _without_references(text: str) -> str:
    """The record without its ``ReferenceList`` blocks (cited works: never the
    record's own data, often most of its size), so parsing does less work.
    The record's ``raw`` keeps them."""
    start = text.find("<ReferenceList")
    if start < 0:
        return text
    end = text.rfind("</ReferenceList>")
    if end < start:
        return text
    return text[:start] + text[end + len("</ReferenceList>"):]


def _elements(buf: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each whole top-level record element in ``buf`` (a
    record's tag never nests inside itself, so its first end tag closes it)."""
    pos = 0
    while True:
        m = _START.search(buf, pos)
        if m is None:
            return
        close = buf.find(f"</{m.group(1)}", m.end())
        if close < 0:
            return
        stop = buf.find(">", close)
        if stop < 0:
            return
        yield m.start(), stop + 1
        pos = stop + 1


def _not_an_article_set(text: str, name: str, line: int, encoding: Encoding, issues: list[ParseIssue]) -> None:
    """A document (from its root element at ``line``) whose root is not
    ``PubmedArticleSet``: an NCBI ``<ERROR>`` raises :class:`NCBIErrorReply`,
    a cut-off document is an issue, anything else an :class:`InputError`."""
    from xml.etree.ElementTree import ParseError, fromstring

    bad = undecodable(text, line, encoding, xml=True)
    if bad:
        raise InputError(f"{name}: {bad}")
    try:
        root = fromstring(text)
    except ParseError as exc:
        issues.append(ParseIssue(name, f"line {line + exc.position[0] - 1}", f"malformed or truncated XML: {exc}"))
        return
    errs = [_text(e) for e in root.iter("ERROR")]
    if errs or root.tag in ("eFetchResult", "ERROR"):
        raise NCBIErrorReply(f"{name}: NCBI error: {'; '.join(e for e in errs if e) or _text(root)}")
    raise InputError(f"{name}: not a PubmedArticleSet (the root element is <{root.tag}>)")


def _where(position: int, line: int, text: str) -> str:
    pmid = re.search(r"<PMID[^>]*>\s*(\d+)", text)
    return f"record {position} (line {line}" + (f", PMID {pmid.group(1)})" if pmid else ")")


def iter_pubmed_xml(source, issues: list[ParseIssue] | None = None, chunk_size: int = 1 << 20, *,
                    encoding: Encoding | None = None) -> Iterator[Record | Deletion]:
    """Stream the records of a PubmedArticleSet (file path, bytes or binary stream).

    Yields :class:`Record` and :class:`Deletion` values one top-level element
    at a time: the file is read in chunks, each ``PubmedArticle``,
    ``PubmedBookArticle`` or ``DeleteCitation`` is cut out as the exact text
    it was sent as (kept as the record's ``raw``) and parsed on its own with
    the C-accelerated ElementTree, so memory stays flat however large the
    file. A record that is not well-formed, has no PMID, holds bytes that are
    not text in the file's ``encoding`` (by default decided by the rule of
    :mod:`.encoding`) or a DTD declaration is skipped with an issue naming
    its position, line and PMID; so is a DTD declaration between records; a
    file cut off mid-record ends the stream after the last whole record with
    an issue naming the line. A DTD internal subset in the prolog raises
    :class:`~.xml_prolog.DTDRefused`; an ``<ERROR>`` reply (eFetchResult)
    raises :class:`NCBIErrorReply`; a reply that is not XML raises
    :class:`NotXMLError`.
    """
    import codecs
    from xml.etree.ElementTree import ParseError, fromstring

    issues = issues if issues is not None else []
    f, name, close, again = _open(source)
    try:
        head = f.read(65536)
        enc = encoding or decide(head, True, name, again)
        decoder = codecs.getincrementaldecoder(enc.codec)(errors="surrogateescape")
        eof = not head
        buf = decoder.decode(head, final=eof)
        while (found := scan_prolog(buf, name, eof)) is None:
            if len(buf) > MAX_PROLOG:
                raise NotXMLError(f"{name}: more than {MAX_PROLOG:,} characters before the root element")
            data = f.read(chunk_size)
            eof = not data
            buf += decoder.decode(data, final=eof)
        root_at, root_tag = found
        line = 1 + buf.count("\n", 0, root_at)
        buf = buf[root_at:]
        if root_tag != "PubmedArticleSet":
            _not_an_article_set(buf + decoder.decode(f.read(), final=True), name, line, enc, issues)
            return
        position = 0
        last = None
        seen_end = False
        while True:
            pos = 0
            for start, stop in _elements(buf):
                text = buf[start:stop]
                gap = buf[pos:start]
                line_at = line + gap.count("\n")
                if "<!" in gap and (m := DECLARATION.search(gap)):
                    issues.append(ParseIssue(name, f"line {line + gap.count(chr(10), 0, m.start())}",
                                             "a DTD declaration between records: refused (nothing in it is used)"))
                pos = stop
                line = line_at + text.count("\n")
                position += 1
                bad = undecodable(text, line_at, enc, xml=True)
                if bad is None and "<!" in text and DECLARATION.search(text):
                    bad = "a DTD declaration inside the record: refused"
                if bad:
                    issues.append(ParseIssue(name, _where(position, line_at, text), bad))
                    continue
                try:
                    el = fromstring(_without_references(text))
                except ParseError as exc:
                    issues.append(ParseIssue(name, _where(position, line_at, text), f"malformed record skipped: {exc}"))
                    continue
                if el.tag == "DeleteCitation":
                    yield Deletion(tuple(p.text.strip() for p in el.findall("PMID") if p.text))
                    continue
                rec = parse_article(el, text)
                if rec.pmid is None:
                    issues.append(ParseIssue(name, f"record {position} (line {line_at})", "no PMID: skipped"))
                    continue
                last = rec.pmid
                yield rec
            rest = buf[pos:]
            if eof:
                if "</PubmedArticleSet>" in rest:
                    seen_end = True
                if "<!" in rest and (m := DECLARATION.search(rest)):
                    issues.append(ParseIssue(name, f"line {line + rest.count(chr(10), 0, m.start())}",
                                             "a DTD declaration after the records: refused (nothing in it is used)"))
                break
            data = f.read(chunk_size)
            eof = not data
            buf = rest + decoder.decode(data, final=eof)
        tail = _START.search(buf)
        if tail or not seen_end:
            where = f"line {line + buf.count(chr(10), 0, tail.start()) if tail else line}"
            after = f" (after PMID {last})" if last else ""
            issues.append(ParseIssue(name, where, f"malformed or truncated XML{after}: "
                                     + ("a record is cut off" if tail else "no closing </PubmedArticleSet>")))
    finally:
        if close:
            f.close()


def parse_pubmed_xml(source, issues: list[ParseIssue] | None = None) -> list[Record]:
    """All records of a PubmedArticleSet (deletions ignored)."""
    return [r for r in iter_pubmed_xml(source, issues) if isinstance(r, Record)]
