"""Saving figures for a journal (:func:`save_figure`)."""
from __future__ import annotations

import os

_NO_DATE = {".svg": {"Date": None}, ".pdf": {"CreationDate": None, "ModDate": None}}


def save_figure(fig, path: str | os.PathLike, dpi: int = 300) -> None:
    """Save a figure for a journal: PNG at ``dpi`` (300), SVG with text kept as
    text (``svg.fonttype = "none"``), PDF with embedded TrueType fonts
    (``pdf.fonttype = 42``), so authors can edit labels. SVG and PDF carry no
    date, so the same figure gives the same bytes. The settings are local to
    this call; the user's rcParams are not changed."""
    import matplotlib as mpl

    path = os.fspath(path)
    with mpl.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
                         "svg.hashsalt": "metail2"}):
        fig.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.08,
                    metadata=_NO_DATE.get(os.path.splitext(path)[1].lower()))


__all__ = ["save_figure"]
