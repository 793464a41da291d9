"""Saving for a journal (metail2.plots.save_figure): editable text in SVG and
PDF, 300 dpi PNG, and no change to global state. The files are written once."""
from __future__ import annotations

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
    fp = plots.forest(bcg)
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


def test_png_is_300_dpi(saved):
    png = (saved["dir"] / "g.png").read_bytes()
    i = png.index(b"pHYs") + 4
    assert round(int.from_bytes(png[i:i + 4], "big") * 0.0254) == 300


@pytest.mark.slow  # TrueType subsetting of three fonts: about 2 s
def test_pdf_embeds_truetype_fonts(saved):
    rc = dict(matplotlib.rcParams)
    path = saved["dir"] / "f.pdf"
    saved["forest"].savefig(path)
    assert b"/FontFile2" in path.read_bytes()  # embedded TrueType (pdf.fonttype 42), not Type 3 outlines
    assert dict(matplotlib.rcParams) == rc
