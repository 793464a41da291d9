"""Risk-of-bias figures: the traffic-light plot (a circle per study and
domain, coloured and marked as robvis does) and the summary bar plot
(shares per judgement, weighted by the analysis's weights)."""
from __future__ import annotations

from itertools import combinations

import matplotlib
import matplotlib.pyplot as plt
import pytest

from metail2.errors import InputError
from metail2.plots import rob
from metail2.plots._rob_data import JUDGEMENTS, TOOLS, detect_tool
from metail2.sheets import Sheet, check_sheet

from .conftest import METAFOR, quiet_pool
from .demo import bcg_rob_frame


@pytest.fixture(scope="module")
def frame():
    return bcg_rob_frame()


@pytest.fixture(scope="module")
def result(frame):
    return quiet_pool(frame, "RR")


@pytest.fixture(scope="module")
def drawn(result):
    p = rob(result)
    p.figure.draw_without_rendering()
    yield p
    plt.close(p.figure)


def test_the_demo_judgements_pass_the_sheet_check(frame):
    assert not check_sheet(Sheet.from_frame(frame)).errors
    bad = frame.copy()
    bad.loc[0, "rob_d1"] = "unclear"  # RoB 1's word, not RoB 2's
    errors = check_sheet(Sheet.from_frame(bad)).errors
    assert [(e.column, "is not one of" in e.message) for e in errors] == [("rob_d1", True)]


def test_tool_detected_from_the_columns():
    assert detect_tool(["study_id", "rob_d1"]) is TOOLS["rob2"]
    assert detect_tool(["study_id", "robins_overall"]) is TOOLS["robins"]
    assert detect_tool(["study_id"]) is None
    assert detect_tool([], "ROBINS-I") is TOOLS["robins"]


def test_traffic_light_has_a_circle_per_study_and_judgement(drawn, frame):
    ax = drawn.axes["traffic"]
    circles = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("rob:")}
    assert len(circles) == len(frame) * 6
    for _, row in frame.iterrows():
        for col, head in zip(TOOLS["rob2"].columns, TOOLS["rob2"].heads):
            j = row[col]
            patch = circles[f"rob:{row.study_id}:{head}:{j}"]
            assert matplotlib.colors.same_color(patch.get_facecolor(), JUDGEMENTS[j][1])
    symbols = [t.get_text() for t in ax.texts if t.get_text() in {"+", "−", "×"}]
    assert len(symbols) == len(frame) * 6  # a symbol in every circle: readable in grey


def test_summary_shares_are_weighted_by_the_overall_analysis(drawn, result, frame):
    w = dict(zip(result.overall.study_ids, result.overall.weights))
    for col, head in zip(TOOLS["rob2"].columns, TOOLS["rob2"].heads):
        for j in TOOLS["rob2"].levels:
            want = sum(w[s] for s, v in zip(frame.study_id, frame[col]) if v == j) / sum(w.values()) * 100
            assert drawn.summary[head][j] == pytest.approx(want)
        assert sum(drawn.summary[head].values()) == pytest.approx(100)
    assert drawn.weighted
    bars = {}
    for patch in drawn.axes["summary"].patches:
        bars.setdefault(patch.get_gid(), []).append(patch.get_width())
    assert bars["summary:low"] == pytest.approx([drawn.summary[h]["low"] for h in TOOLS["rob2"].heads])


def test_a_sheet_counts_each_study_once(frame):
    p = rob(Sheet.from_frame(frame), kind="summary")
    assert not p.weighted and set(p.axes) == {"summary"}
    low = sum(v == "low" for v in frame.rob_overall) / len(frame) * 100
    assert p.summary["Overall"]["low"] == pytest.approx(low)
    plt.close(p.figure)


def test_texts_never_overlap(drawn):
    r = drawn.figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(r)) for ax in drawn.axes.values() for t in ax.texts
             if t.get_text().strip()]
    boxes += [(t.get_text(), t.get_window_extent(r)) for t in drawn.axes["summary"].get_yticklabels()]
    circles = [t for t in boxes if t[0] in {"+", "−", "×"}]
    others = [t for t in boxes if t[0] not in {"+", "−", "×"}]
    for (ta, a), (tb, b) in combinations(others, 2):
        assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5, (ta, tb)
    assert len(circles) > 0
    fig = drawn.figure.bbox
    assert all(fig.x0 - 1 <= b.x0 and b.x1 <= fig.x1 + 1 for _, b in boxes)


def test_unassessed_studies_are_named_and_sheets_without_judgements_refused(frame):
    part = frame.copy()
    for col in TOOLS["rob2"].columns:
        part.loc[0, col] = ""
    p = rob(Sheet.from_frame(part))
    assert p.not_assessed == (frame.study_id[0],) and len(p.studies) == len(frame) - 1
    plt.close(p.figure)
    with pytest.raises(InputError, match="risk-of-bias columns"):
        rob(METAFOR / "bcg.csv")
