"""The review report as one self-contained HTML page (:func:`render`).

Jinja2 templates in ``templates/`` with autoescaping on: every value from a
sheet is text, never markup. Figures are inline SVG (no external files, no
network); the page carries no script, and its Content-Security-Policy forbids
any (``default-src 'none'``), so an injected one could not run either. The
output is deterministic: the same inputs give the same bytes (no timestamp
unless a date is passed).

Jinja2 is imported here, on first render.
"""
from __future__ import annotations

import re

#: What an inline SVG may not contain (matplotlib writes none of these;
#: refused rather than trusted).
_UNSAFE_SVG = re.compile(r"<\s*(script|foreignObject|iframe|object|embed|use\s[^>]*href\s*=\s*[\"']http)\b|"
                         r"\son\w+\s*=|javascript:|(xlink:)?href\s*=\s*[\"'](?!#|data:image/(png|jpeg);base64,)", re.I)


def inline_svg(svg: str, prefix: str, label: str = "") -> str:
    """An SVG document made fit to inline in HTML: no XML declaration,
    DOCTYPE, comments or metadata; every id prefixed (two figures never
    share an id); refused (``ValueError``) if it holds a script, an event
    handler or a link to anything outside itself."""
    s = re.sub(r"<\?xml[^>]*\?>", "", svg)
    s = re.sub(r"<!DOCTYPE[^>]*>", "", s)
    s = re.sub(r"<!--.*?-->", "", s, flags=re.S)
    s = re.sub(r"<metadata>.*?</metadata>", "", s, flags=re.S)
    if _UNSAFE_SVG.search(s):
        raise ValueError(f"figure {prefix!r}: the SVG holds a script, an event handler or an external link")
    seen: dict = {}

    def new_id(m):
        value = m.group(3)
        seen[value] = seen.get(value, 0) + 1   # an id a figure gives twice gets -2, -3, … (ids stay unique)
        n = f"-{seen[value]}" if seen[value] > 1 else ""
        return f"{m.group(1)}{m.group(2)}{prefix}-{value}{n}{m.group(2)}"

    s = re.sub(r"""(\sid=)(["'])(.*?)\2""", new_id, s)
    s = re.sub(r"""((?:xlink:)?href=["']#|url\(#)([^"')]+)""", lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", s)
    if label:
        from markupsafe import escape

        s = re.sub(r"<svg\b", f'<svg role="img" aria-label="{escape(label)}"', s, count=1)
    return s.strip()


def environment():
    """The Jinja2 environment of the report templates (autoescaped, strict)."""
    try:
        import jinja2
    except ImportError:
        from ..errors import InputError

        raise InputError("the HTML report needs Jinja2: pip install jinja2") from None

    return jinja2.Environment(loader=jinja2.PackageLoader("metail2.report", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=False, lstrip_blocks=False)


def render(doc) -> str:
    """The HTML page of a :class:`~.document.Document`."""
    from markupsafe import Markup

    svgs = {}
    for key, fig in doc.figures().items():
        if fig.svg is None:
            raise ValueError(f"figure {key!r} has no SVG for the HTML report")
        svgs[key] = Markup(inline_svg(fig.svg, f"fig-{key}", fig.title))
    return environment().get_template("report.html.j2").render(doc=doc, svgs=svgs)


__all__ = ["render", "inline_svg", "environment"]
