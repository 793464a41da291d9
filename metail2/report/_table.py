"""Report tables as plain values: a :class:`Table` of :class:`Cell` rows that
the HTML template, the Word writer, a notebook (``_repr_html_``) and a
terminal (``str``) all render the same way.

A cell holds text, and optionally a link, a tooltip (``title``: for a pooled
number, the studies it pooled) and a list of links (the studies themselves).
Nothing here builds markup by hand except ``_repr_html_``, which escapes
every piece of text.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    """A hyperlink: ``href`` is a page (``https://pubmed…``), a file
    (``../extraction/sheet.csv#L3``) or an anchor in the report (``#study-3``)."""

    text: str
    href: str


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes
    ----------
    text : str
    href : str or None
        The whole text links there.
    title : str or None
        A tooltip; for pooled numbers, "Pooled: A; B; C".
    links : tuple of Link
        Links shown after ``text`` (e.g. the studies a number pooled).
    numeric : bool
        Right-aligned.
    css : str
        Extra class (e.g. a risk-of-bias judgement: ``rob-low``).
    """

    text: str = ""
    href: str | None = None
    title: str | None = None
    links: tuple[Link, ...] = ()
    numeric: bool = False
    css: str = ""

    def plain(self) -> str:
        """The text as a terminal or a Word table shows it."""
        extra = "; ".join(lk.text for lk in self.links)
        return f"{self.text} {extra}".strip() if extra else self.text


def cell(x) -> Cell:
    return x if isinstance(x, Cell) else Cell(str(x))


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    anchor: str | None = None   # id of the row in the HTML report
    strong: bool = False        # a total or overall row


@dataclass(frozen=True)
class Table:
    """A titled table with its notes.

    ``key`` names it (the HTML id, the test's handle); ``caption`` says what
    it shows; ``notes`` are the package's own notes on these numbers.
    """

    key: str
    title: str
    head: tuple[str, ...]
    rows: tuple[Row, ...]
    caption: str = ""
    notes: tuple[str, ...] = ()
    footer: tuple[str, ...] = field(default=())  # lines under the table (e.g. the subgroup test)

    def __str__(self) -> str:
        rows = [tuple(c.plain() for c in r.cells) for r in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(self.head)]
        fmt = lambda r: "  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
        out = [self.title, fmt(self.head), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]
        out += list(self.footer)
        if self.notes:
            out += ["Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        e = html.escape

        def td(c: Cell) -> str:
            body = e(c.text)
            if c.href:
                body = f'<a href="{e(c.href)}">{body}</a>'
            if c.links:
                body += " " + "; ".join(f'<a href="{e(lk.href)}">{e(lk.text)}</a>' for lk in c.links)
            title = f' title="{e(c.title)}"' if c.title else ""
            style = ' style="text-align:right"' if c.numeric else ""
            return f"<td{title}{style}>{body}</td>"

        head = "".join(f"<th>{e(h)}</th>" for h in self.head)
        body = "".join("<tr>" + "".join(td(c) for c in r.cells) + "</tr>" for r in self.rows)
        parts = [f"<div class='metail2-table'><p><b>{e(self.title)}</b></p>",
                 f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"]
        parts += [f"<p>{e(line)}</p>" for line in self.footer]
        if self.notes:
            parts.append("<p>Notes:</p><ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes) + "</ul>")
        return "".join(parts) + "</div>"


__all__ = ["Cell", "Link", "Row", "Table", "cell"]
