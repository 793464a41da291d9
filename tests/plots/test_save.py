"""Saving for a journal (metail2.plots.save_figure): editable text in SVG and
PDF, 300 dpi PNG, byte-reproducible files, and no change to global state.
The files are written once."""
from __future__ import annotations

import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2 import plots


def _state():
    return list(warnings.filters), np.geterr(), dict(matplotlib.rcParams)


@pytest.fixture(scope="module")
def saved(bcg, tmp_path_factory):
    """A forest plot as SVG and a contour funnel as PNG, with the global state before and after."""
    d = tmp_path_factory.mktemp("saved")
    before = _state()
    fp = plots.forest(bcg, favours=("vaccine", "control"))
    fp.savefig(d / "f.svg")
    gp = plots.funnel(bcg, contours=True)
    gp.savefig(d / "g.png")
    after = _state()
    yield {"dir": d, "forest": fp, "before": before, "after": after}
    plt.close(fp.figure)
    plt.close(gp.figure)


def test_plotting_and_saving_leave_global_state_alone(saved):
    filters, err, rc = saved["before"]
    assert saved["after"][0] == filters
    assert saved["after"][1] == err
    assert saved["after"][2] == rc


def test_svg_keeps_text_as_text_and_no_date(saved):
    svg = (saved["dir"] / "f.svg").read_text()
    assert "<text" in svg and "Test for subgroup differences" in svg
    assert "<dc:date>" not in svg


def test_svg_names_a_generic_font_family_last(saved):
    svg = (saved["dir"] / "f.svg").read_text()
    families = set(re.findall(r"font-family:([^;\"]*)", svg))
    assert families and all(f.strip().endswith("sans-serif") for f in families)


def test_svg_favours_labels_are_separate_texts_apart(saved):
    svg = (saved["dir"] / "f.svg").read_text()
    assert "Favours vaccineFavours control" not in svg
    xs = {}
    for m in re.finditer(r'<text[^>]*x="([-\d.]+)"[^>]*>(Favours [a-z]+)</text>', svg):
        xs[m.group(2)] = float(m.group(1))
    assert set(xs) == {"Favours vaccine", "Favours control"}
    style = re.search(r'<text[^>]*>Favours vaccine</text>', svg).group(0)
    assert "text-anchor:end" in style.replace(" ", "") or 'text-anchor="end"' in style
    assert xs["Favours control"] - xs["Favours vaccine"] >= 7  # 2 × 4 pt either side of the null


def test_png_is_300_dpi(saved):
    png = (saved["dir"] / "g.png").read_bytes()
    i = png.index(b"pHYs") + 4
    assert round(int.from_bytes(png[i:i + 4], "big") * 0.0254) == 300


@pytest.mark.slow  # TrueType subsetting of three fonts, twice: about 4 s
def test_pdf_embeds_truetype_fonts_and_is_byte_reproducible(saved):
    rc = dict(matplotlib.rcParams)
    a, b = saved["dir"] / "a.pdf", saved["dir"] / "b.pdf"
    saved["forest"].savefig(a)
    saved["forest"].savefig(b)
    data = a.read_bytes()
    assert b"/FontFile2" in data  # embedded TrueType (pdf.fonttype 42), not Type 3 outlines
    assert b"/CreationDate" not in data and b"/ModDate" not in data
    assert data == b.read_bytes()
    assert dict(matplotlib.rcParams) == rc
