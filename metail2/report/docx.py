"""The review report for journals: a Word (.docx) file with the same sections,
tables and figures as the HTML report (:func:`write_docx`), for authors to
paste into a manuscript. Figures are PNG (Word does not take SVG portably);
study rows keep their links (sheet line, PubMed, DOI) as hyperlinks.

python-docx is imported here, on first use. The file is reproducible: fixed
document properties and zip entry dates unless a date is given.
"""
from __future__ import annotations

import io
import zipfile

FIXED = (1980, 1, 1, 0, 0, 0)


def _hyperlink(paragraph, text: str, href: str) -> None:
    """A clickable link in a paragraph (python-docx has no API for it)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rid = paragraph.part.relate_to(href, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "1F4E79")
    props.append(color)
    under = OxmlElement("w:u")
    under.set(qn("w:val"), "single")
    props.append(under)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _external(href: str | None) -> bool:
    return bool(href) and href.startswith(("https://", "http://"))


def _cell(wcell, c, size) -> None:
    p = wcell.paragraphs[0]
    if c.href and _external(c.href):
        _hyperlink(p, c.text, c.href)
    elif c.text:
        p.add_run(c.text)
    for i, lk in enumerate(c.links):
        if i or c.text:
            p.add_run("; " if i else " ")
        if _external(lk.href):
            _hyperlink(p, lk.text, lk.href)
        else:
            p.add_run(lk.text)
    if c.numeric:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for run in p.runs:
        run.font.size = size


def _table(doc, t) -> None:
    from docx.shared import Pt

    doc.add_heading(t.title, level=3)
    if t.caption:
        doc.add_paragraph(t.caption).style = doc.styles["Caption"]
    size = Pt(8)
    wt = doc.add_table(rows=1, cols=len(t.head))
    wt.style = doc.styles["Table Grid"]
    for c, h in zip(wt.rows[0].cells, t.head):
        run = c.paragraphs[0].add_run(h)
        run.bold = True
        run.font.size = size
    for row in t.rows:
        cells = wt.add_row().cells
        for wc, c in zip(cells, row.cells):
            _cell(wc, c, size)
            if row.strong:
                for run in wc.paragraphs[0].runs:
                    run.bold = True
    for line in t.footer:
        doc.add_paragraph(line)
    for n in t.notes:
        doc.add_paragraph(n, style="List Bullet")


def build(document, date: str | None = None):
    """A python-docx ``Document`` of a report :class:`~.document.Document`."""
    import datetime as dt

    try:
        import docx
    except ImportError:
        from ..errors import InputError

        raise InputError("a Word report needs python-docx: pip install 'metail2[docx]'") from None
    from docx.shared import Inches

    from ._table import Table

    d = docx.Document()
    props = d.core_properties
    props.title = document.title
    props.author = "metail2"
    props.comments = document.subtitle
    when = dt.datetime(2000, 1, 1) if date is None else dt.datetime.fromisoformat(date)
    props.created = props.modified = when
    props.last_modified_by = "metail2"
    props.revision = 1
    d.add_heading(document.title, level=0)
    d.add_paragraph(document.subtitle)
    for s in document.sections:
        d.add_heading(s.title, level=1)
        for p in s.paragraphs:
            d.add_paragraph(p)
        for item in s.items:
            if isinstance(item, Table):
                _table(d, item)
            else:
                if item.png is None:
                    raise ValueError(f"figure {item.key!r} has no PNG for the Word report")
                d.add_picture(io.BytesIO(item.png), width=Inches(6.3))
                d.add_paragraph(f"{item.title}. {item.caption}".strip()).style = d.styles["Caption"]
        for n in s.notes:
            d.add_paragraph(f"Not run: {n}", style="List Bullet")
    d.add_heading("Methods", level=1)
    d.add_paragraph(document.methods)
    d.add_heading("Reproducibility", level=1)
    for label, value in document.reproducibility:
        p = d.add_paragraph()
        p.add_run(f"{label}: ").bold = True
        p.add_run(value)
    return d


def docx_bytes(document, date: str | None = None) -> bytes:
    """The report as .docx bytes, with fixed zip entry dates (the same inputs
    give the same bytes)."""
    buf = io.BytesIO()
    build(document, date).save(buf)
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, \
            zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, FIXED)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, zin.read(info.filename))
    return fixed.getvalue()


def write_docx(document, out, date: str | None = None) -> None:
    """Write the report as .docx to ``out`` (a path or a binary file object)."""
    data = docx_bytes(document, date)
    if hasattr(out, "write"):
        out.write(data)
    else:
        with open(out, "wb") as f:
            f.write(data)


__all__ = ["write_docx", "docx_bytes", "build"]
