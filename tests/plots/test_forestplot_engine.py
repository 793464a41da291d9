"""forest(..., engine="forestplot"): the forestplot package draws the study
rows and the left table, metail2 the rest; forestplot's import-time changes
to warning filters, NumPy error settings and rcParams are undone."""
from __future__ import annotations

import json
import subprocess
import sys
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from metail2.plots import forest

from .conftest import METAFOR, ROOT, quiet_pool

pytest.importorskip("forestplot", reason="the forestplot engine needs the forestplot package (pip install forestplot)")


def _state():
    return list(warnings.filters), np.geterr(), dict(matplotlib.rcParams)


@pytest.fixture(scope="module")
def drawn(bcg):
    before = _state()
    fp = forest(bcg, engine="forestplot", prediction=True, favours=("vaccine", "control"))
    md = forest(quiet_pool(METAFOR / "normand1999.csv", "MD"), engine="forestplot")
    after = _state()
    yield {"bcg": fp, "md": md, "before": before, "after": after}
    plt.close(fp.figure)
    plt.close(md.figure)


def test_drawing_leaves_warning_filters_numpy_errors_and_rcparams_as_they_were(drawn):
    assert drawn["after"][0] == drawn["before"][0]
    assert drawn["after"][1] == drawn["before"][1]
    assert drawn["after"][2] == drawn["before"][2]


@pytest.mark.slow  # a fresh interpreter: forestplot imported for the first time
def test_first_import_through_metail2_changes_no_global_state():
    code = f"""
import json, warnings
import numpy as np, matplotlib
matplotlib.use("Agg")
from metail2 import pool
r = pool({str(METAFOR / 'normand1999.csv')!r}, "MD")
import metail2.plots
before = (list(warnings.filters), np.geterr(), dict(matplotlib.rcParams))
fp = metail2.plots.forest(r, engine="forestplot")
import sys
after = (list(warnings.filters), np.geterr(), dict(matplotlib.rcParams))
print(json.dumps({{"imported": "forestplot" in sys.modules, "filters": before[0] == after[0],
                  "err": before[1] == after[1], "rc": before[2] == after[2]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == {"imported": True, "filters": True, "err": True, "rc": True}


def test_every_row_gets_its_own_place_although_labels_repeat(drawn):
    fp = drawn["bcg"]
    labels = [t.get_text() for t in fp.ax.get_yticklabels()]
    assert len(labels) == len(fp.rows) + 1  # the rows and forestplot's header row
    assert len(set(labels)) == len(labels)
    assert sum(lab.startswith("Subtotal (95% CI)") for lab in labels) == 3  # the same text, three rows
    assert sorted(r.y for r in fp.rows) == list(range(len(fp.rows)))


def test_study_markers_are_forestplots_sized_by_weight(drawn):
    fp = drawn["bcg"]
    areas = [a for *_, a in fp.squares]
    assert len(areas) == 13
    sizes = [c.get_sizes() for c in fp.ax.collections if hasattr(c, "get_sizes") and len(c.get_sizes()) > 1]
    assert any(sorted(s[s > 0]) == pytest.approx(sorted(areas)) for s in sizes)


def test_metail2_adds_diamonds_prediction_intervals_and_the_right_table_in_axes_coordinates(drawn):
    for name in ("bcg", "md"):
        fp = drawn[name]
        gids = {p.get_gid() for p in fp.ax.patches}
        assert {f"diamond:{d}" for d, _ in fp.diamonds} <= gids
        fp.figure.draw_without_rendering()
        r = fp.figure.canvas.get_renderer()
        right_edge = fp.ax.get_window_extent(r).x1
        weights = [t for t in fp.ax.texts if t.get_text().endswith("%") and t.get_text()[:1].isdigit()]
        assert weights and all(t.get_window_extent(r).x0 > right_edge for t in weights)
    assert {line.get_gid() for line in drawn["bcg"].ax.lines} >= {"pi:random", "pi:Overall", "null"}
    assert drawn["bcg"].engine == "forestplot"


def test_no_text_overlaps(drawn):
    from itertools import combinations

    from .conftest import texts

    for fp in (drawn["bcg"], drawn["md"]):
        fp.figure.draw_without_rendering()
        r = fp.figure.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts(fp.figure)]
        for (ta, a), (tb, b) in combinations(boxes, 2):
            assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5, (ta, tb)


def test_draws_into_a_figure_outside_pyplot_without_leaving_figures_behind(normand_md):
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    fig = Figure(figsize=(10, 4))
    ax = fig.add_axes([0.45, 0.25, 0.3, 0.6])
    fp = forest(normand_md, ax=ax, engine="forestplot")
    assert fp.figure is fig and fp.ax is ax and plt.get_fignums() == before
