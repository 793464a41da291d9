"""Bibliographic records: PubMed XML (streamed), MEDLINE text and RIS.

``iter_pubmed_xml`` parses a PubmedArticleSet with bounded memory
(``iterparse``, each article cleared once read), with no DTD or network
access and entity declarations refused (:func:`refuse_entities`). Only an article's own
identifiers are taken: the PMID is ``MedlineCitation/PMID`` and the DOI and
PMCID come from the article's ``ELocationID`` or its ``PubmedData/ArticleIdList``,
never from ``ReferenceList``, ``CommentsCorrections`` or any other nested
element. Text with inline markup (``<i>``, ``<sub>``, badly nested tags)
comes out whole.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import asdict, dataclass, field
from typing import IO, Iterator

MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"], 1)}


@dataclass(frozen=True)
class Record:
    """One bibliographic record, whatever file it came from.

    ``authors`` are "Last Initials" for a person and the group's name for a
    collective author; ``abstract`` joins structured sections as
    "LABEL: text" paragraphs (``abstract_sections`` keeps them apart).
    ``raw`` is the text the record was parsed from; ``raw_format`` says which
    (``pubmed-xml``, ``medline``, ``ris``).
    """

    pmid: str | None
    title: str = ""
    abstract: str = ""
    abstract_sections: tuple[tuple[str, str], ...] = ()
    authors: tuple[str, ...] = ()
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str | None = None
    pmcid: str | None = None
    mesh_terms: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    language: str = ""
    kind: str = "article"  # article, book
    raw: str = field(default="", repr=False)
    raw_format: str = "pubmed-xml"

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("raw", "raw_format", "abstract_sections"):
            d.pop(k)
        for k in ("authors", "mesh_terms", "publication_types"):
            d[k] = list(d[k])
        return d


@dataclass(frozen=True)
class Deletion:
    """A ``DeleteCitation``: PMIDs NCBI has withdrawn."""

    pmids: tuple[str, ...]


@dataclass(frozen=True)
class ParseIssue:
    """A record skipped, or a file that stopped parsing, with where and why."""

    source: str
    where: str  # "PMID 123", "record 4", "line 17"
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.where}: {self.message}"


class NotXMLError(ValueError):
    """A reply that is not XML (an HTML page, ASN.1 text, ...)."""


# --------------------------------------------------------------------------- PubMed XML

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
    m = re.search(r"\b(1[6-9]\d\d|20\d\d)\b", pubdate.findtext("MedlineDate") or "")
    return int(m.group(1)) if m else None


def normalize_doi(doi: str | None) -> str | None:
    """Lower-case DOI without resolver prefix or "doi:"; None if not a DOI."""
    if not doi:
        return None
    d = doi.strip().lower()
    d = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d)
    return d if d.startswith("10.") else None


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


def parse_article(el, raw: str) -> Record:
    """A ``PubmedArticle`` or ``PubmedBookArticle`` element as a Record."""
    if el.tag == "PubmedBookArticle":
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


def _open(source) -> tuple[IO[bytes], str, bool]:
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(source), "<bytes>", True
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb"), os.fspath(source), True
    return source, getattr(source, "name", "<stream>"), False


def sniff_xml(head: bytes, name: str) -> None:
    """Raise NotXMLError unless the bytes start like an XML document."""
    h = head.lstrip()[:200].lower()
    if h.startswith(b"\xef\xbb\xbf"):
        h = h[3:]
    if not h.startswith(b"<") or h.startswith((b"<!doctype html", b"<html")) or b"<html" in h[:100]:
        raise NotXMLError(f"{name}: not XML (starts with {head.lstrip()[:40]!r})")


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


def iter_pubmed_xml(source, issues: list[ParseIssue] | None = None, chunk_size: int = 1 << 20
                    ) -> Iterator[Record | Deletion]:
    """Stream the records of a PubmedArticleSet (file path, bytes or binary stream).

    Yields :class:`Record` and :class:`Deletion` values one top-level element
    at a time: the file is read in chunks, each ``PubmedArticle``,
    ``PubmedBookArticle`` or ``DeleteCitation`` is cut out as the exact text
    it was sent as (kept as the record's ``raw``) and parsed on its own with
    the C-accelerated ElementTree, so memory stays flat however large the
    file. A record that is not well-formed, or has no PMID, is skipped with
    an issue naming its position and PMID; a file cut off mid-record ends the
    stream after the last whole record with an issue naming the line. An
    ``<ERROR>`` reply (eFetchResult) raises ``RuntimeError``; a reply that is
    not XML raises :class:`NotXMLError`.
    """
    import codecs
    from xml.etree.ElementTree import ParseError, fromstring

    issues = issues if issues is not None else []
    f, name, close = _open(source)
    try:
        head = f.read(65536)
        sniff_xml(head, name)
        refuse_entities(head, name)
        root_tag = re.search(rb"<([A-Za-z][\w.-]*)", re.sub(rb"<[?!][^>]*>", b"", head))
        if root_tag and root_tag.group(1) != b"PubmedArticleSet":
            body = head + f.read()
            try:
                root = fromstring(body)
            except ParseError as exc:
                issues.append(ParseIssue(name, f"line {exc.position[0]}", f"malformed or truncated XML: {exc}"))
                return
            errs = [_text(e) for e in root.iter("ERROR")]
            if errs or root.tag in ("eFetchResult", "ERROR"):
                raise RuntimeError(f"{name}: NCBI error: {'; '.join(e for e in errs if e) or _text(root)}")
            raise ValueError(f"{name}: not a PubmedArticleSet (the root element is <{root.tag}>)")
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buf = decoder.decode(head)
        line = 1
        position = 0
        last = None
        seen_end = False
        eof = False
        while True:
            pos = 0
            for start, stop in _elements(buf):
                text = buf[start:stop]
                line_at = line + buf.count("\n", pos, start)
                pos = stop
                line = line_at + text.count("\n")
                position += 1
                try:
                    el = fromstring(_without_references(text))
                except ParseError as exc:
                    pmid = re.search(r"<PMID[^>]*>\s*(\d+)", text)
                    issues.append(ParseIssue(name, f"record {position} (line {line_at}"
                                             + (f", PMID {pmid.group(1)})" if pmid else ")"),
                                             f"malformed record skipped: {exc}"))
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
                break
            data = f.read(chunk_size)
            if not data:
                eof = True
                rest += decoder.decode(b"", final=True)
            else:
                rest += decoder.decode(data)
            buf = rest
        tail = _START.search(buf)
        if tail or not seen_end:
            where = f"line {line + buf.count(chr(10), 0, tail.start()) if tail else line}"
            after = f" (after PMID {last})" if last else ""
            issues.append(ParseIssue(name, where, f"malformed or truncated XML{after}: "
                                     + ("a record is cut off" if tail else "no closing </PubmedArticleSet>")))
    finally:
        if close:
            f.close()


def refuse_entities(head: bytes, name: str) -> None:
    """Refuse a document whose prolog declares entities.

    Entity declarations can only appear in the DOCTYPE's internal subset,
    before the root element, so the prolog is all that needs reading; NCBI's
    replies have none. External DTDs are never fetched (expat does not load
    them), so parsing needs no network and expands no entity it was not
    given, and the C-accelerated ``iterparse`` can be used.
    """
    root = re.search(rb"<(?![?!])", head)
    prolog = head[: root.start()] if root else head
    if b"<!ENTITY" in prolog:
        raise ValueError(f"{name}: the document declares XML entities; refused (entity expansion is disabled)")


def parse_pubmed_xml(source, issues: list[ParseIssue] | None = None) -> list[Record]:
    """All records of a PubmedArticleSet (deletions ignored)."""
    return [r for r in iter_pubmed_xml(source, issues) if isinstance(r, Record)]


# --------------------------------------------------------------------------- MEDLINE text and RIS

def iter_medline(path, issues: list[ParseIssue] | None = None) -> Iterator[Record]:
    """Records of PubMed's MEDLINE text export (``.txt``/``.nbib``), via
    Biopython's ``Bio.Medline``."""
    from Bio import Medline

    issues = issues if issues is not None else []
    name = os.fspath(path)
    with open(name, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    chunks = [c for c in re.split(r"\n\s*\n(?=PMID-)", text.strip()) if c.strip()]
    for i, chunk in enumerate(chunks, 1):
        try:
            recs = list(Medline.parse(io.StringIO(chunk + "\n")))
        except Exception as exc:  # Bio.Medline raises ValueError and others on bad lines
            issues.append(ParseIssue(name, f"record {i}", f"unreadable MEDLINE record: {exc}"))
            continue
        for rec in recs:
            pmid = (rec.get("PMID") or "").strip()
            if not pmid or not pmid.isdigit():
                issues.append(ParseIssue(name, f"record {i}", "no PMID: skipped"))
                continue
            doi = None
            for aid in rec.get("AID", []):
                if aid.endswith("[doi]"):
                    doi = aid[:-5].strip()
            lid = [x for x in rec.get("LID", []) if x.endswith("[doi]")] if isinstance(rec.get("LID"), list) else []
            doi = doi or (lid[0][:-5].strip() if lid else None)
            pmc = rec.get("PMC")
            m = re.search(r"\b(1[6-9]\d\d|20\d\d)\b", rec.get("DP", ""))
            yield Record(
                pmid=pmid, title=rec.get("TI", ""), abstract=rec.get("AB", ""),
                authors=tuple(rec.get("AU", [])) or tuple(rec.get("CN", []) if isinstance(rec.get("CN"), list)
                                                          else [rec["CN"]] if rec.get("CN") else []),
                journal=rec.get("JT", "") or rec.get("TA", ""), year=int(m.group(1)) if m else None,
                volume=rec.get("VI", ""), issue=rec.get("IP", ""), pages=rec.get("PG", ""),
                doi=normalize_doi(doi), pmcid=pmc.strip() if isinstance(pmc, str) else None,
                mesh_terms=tuple(h.split("/")[0].lstrip("*") for h in rec.get("MH", [])),
                publication_types=tuple(rec.get("PT", [])),
                language=(rec.get("LA") or [""])[0] if isinstance(rec.get("LA"), list) else rec.get("LA", ""),
                raw=chunk, raw_format="medline")


def iter_ris(path, issues: list[ParseIssue] | None = None) -> Iterator[Record]:
    """Records of an RIS file (via rispy); a broken record is skipped with an issue."""
    import rispy

    issues = issues if issues is not None else []
    name = os.fspath(path)
    with open(name, encoding="utf-8-sig", errors="replace") as fh:
        text = fh.read()
    chunks = [c for c in re.split(r"(?m)^ER\s+-.*$", text) if c.strip()]
    for i, chunk in enumerate(chunks, 1):
        body = chunk.strip() + "\nER  - \n"
        try:
            entries = rispy.loads(body)
        except Exception as exc:  # rispy raises on a malformed line
            issues.append(ParseIssue(name, f"record {i}", f"broken RIS record: {exc}"))
            continue
        for e in entries:
            title = e.get("title") or e.get("primary_title") or ""
            if not title and not e.get("doi"):
                issues.append(ParseIssue(name, f"record {i}", "no title and no DOI: skipped"))
                continue
            m = re.search(r"\b(1[6-9]\d\d|20\d\d)\b", str(e.get("year") or e.get("publication_year") or ""))
            pmid = None
            for key in ("accession_number", "pubmed_id"):
                v = str(e.get(key) or "").strip()
                if v.isdigit():
                    pmid = v
            authors = tuple(_ris_author(a) for a in (e.get("authors") or e.get("first_authors") or []))
            yield Record(
                pmid=pmid, title=title, abstract=e.get("abstract", ""), authors=authors,
                journal=e.get("secondary_title") or e.get("journal_name") or e.get("alternate_title1") or "",
                year=int(m.group(1)) if m else None, volume=str(e.get("volume", "")),
                issue=str(e.get("number", "")),
                pages="-".join(x for x in (str(e.get("start_page", "")), str(e.get("end_page", ""))) if x),
                doi=normalize_doi(e.get("doi")), mesh_terms=tuple(e.get("keywords", [])),
                language=e.get("language", ""), raw=body, raw_format="ris")


def _ris_author(a: str) -> str:
    """RIS "Last, First M." -> "Last FM"."""
    if "," not in a:
        return a.strip()
    last, first = a.split(",", 1)
    initials = "".join(p[0] for p in re.split(r"[\s.\-]+", first.strip()) if p)
    return f"{last.strip()} {initials}".strip()


def to_ris(records) -> str:
    """Records as RIS text (rispy)."""
    import rispy

    entries = []
    for r in records:
        e = {"type_of_reference": "BOOK" if r["kind"] == "book" else "JOUR", "title": r["title"],
             "authors": [_ris_name(a) for a in r["authors"]], "year": str(r["year"] or ""),
             "secondary_title": r["journal"], "volume": r["volume"], "number": r["issue"],
             "abstract": r["abstract"], "doi": r["doi"] or "", "keywords": r["mesh_terms"],
             "language": r["language"]}
        if r["pmid"]:
            e["accession_number"] = r["pmid"]
        if r["pages"]:
            sp, _, ep = r["pages"].partition("-")
            e["start_page"] = sp
            if ep:
                e["end_page"] = ep
        entries.append({k: v for k, v in e.items() if v not in ("", [], None)})
    return rispy.dumps(entries)


def _ris_name(a: str) -> str:
    parts = a.rsplit(" ", 1)
    if len(parts) == 2 and parts[1].isupper() and len(parts[1]) <= 4:
        return f"{parts[0]}, {'. '.join(parts[1])}."
    return a
