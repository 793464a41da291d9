"""The PRISMA 2020 flow diagram: every count in the box the template puts
it in, boxes sized to their text, nothing overlapping, text kept as text."""
from __future__ import annotations

import re
from itertools import combinations

import matplotlib.pyplot as plt
import pytest

from metail2.plots import prisma
from metail2.plots.prisma import PAD, box_texts, prisma_layout
from metail2.review.prisma import Prisma

from .demo import PRISMA_COUNTS

#: where each count of the store's PRISMA counts belongs
BOX_OF = {"identified_total": "identified", "duplicates_removed": "removed", "records_removed_other": "removed",
          "screened": "screened", "excluded_screening": "excluded", "screening_pending": "excluded",
          "screening_conflicts": "excluded", "reports_sought": "sought", "fulltext_pending": "not_retrieved",
          "reports_assessed": "assessed", "included": "included"}


def width(s, size, bold=False, italic=False):
    return len(s) * size * (0.6 if bold else 0.5)


def counts_in_boxes(counts, lines_of):
    """(count name, box, text) for every count: the box's lines hold "(n = value)" with the right words."""
    c = dict(counts)
    out = [(f"identified[{src}]", "identified", f"{src} (n = {n})") for src, n in c["identified"].items()]
    out += [(f"reports_excluded[{r}]", "reports_excluded", f"{r} (n = {n})") for r, n in c["reports_excluded"].items()]
    out.append(("reports_excluded", "reports_excluded", f"Reports excluded (n = {sum(c['reports_excluded'].values())})"))
    out += [(k, box, f"(n = {c[k]})") for k, box in BOX_OF.items()]
    for name, box, text in out:  # lines wrapped in a box read as one text
        joined = " ".join(" ".join(line.split()) for line in lines_of(box))
        assert text in joined, (name, box, text, joined)
    return out


def test_every_count_is_in_its_box():
    texts = box_texts(PRISMA_COUNTS)
    counts_in_boxes(PRISMA_COUNTS, lambda box: texts[box])
    assert texts["screened"] == ["Records screened (n = 256)"]
    assert texts["excluded"] == ["Records excluded (n = 201)", "Records awaiting screening (n = 3)",
                                 "  of which reviewers disagree (n = 1)"]
    assert texts["included"] == ["Studies included in review (n = 14)", "Reports of included studies (n = 14)"]


def test_optional_counts():
    texts = box_texts({**PRISMA_COUNTS, "studies_included": 11, "reports_not_retrieved": 2})
    assert texts["included"][0] == "Studies included in review (n = 11)"
    assert texts["not_retrieved"] == ["Reports not retrieved (n = 2)", "Reports awaiting assessment (n = 1)"]


def test_a_prisma_value_is_taken_as_it_is():
    p = Prisma(**{k: v for k, v in PRISMA_COUNTS.items()})
    assert box_texts(p) == box_texts(PRISMA_COUNTS)


def test_boxes_are_sized_to_their_text_and_never_overlap():
    lay = prisma_layout(PRISMA_COUNTS, text_width=width)
    for b in lay.boxes:
        if b.kind == "box":
            assert b.w >= max(width(s, lay.fontsize) for s in b.lines) + 2 * PAD - 1e-9
            assert b.h >= len(b.lines) * lay.line_height + 2 * PAD - 1e-9
    for a, b in combinations(lay.boxes, 2):
        assert min(a.x + a.w, b.x + b.w) <= max(a.x, b.x) or min(a.y + a.h, b.y + b.h) <= max(a.y, b.y), (a.name,
                                                                                                           b.name)
    for (x0, y0), (x1, y1) in lay.arrows:  # arrows start and end on box edges
        assert any(abs(x0 - (b.x + b.w)) < 1e-9 or abs(y0 - (b.y + b.h)) < 1e-9 for b in lay.boxes)
        assert any(abs(x1 - b.x) < 1e-9 or abs(y1 - b.y) < 1e-9 for b in lay.boxes)
    assert lay.width == max(b.x + b.w for b in lay.boxes) and lay.height == pytest.approx(
        max(b.y + b.h for b in lay.boxes))


def test_long_source_names_wrap():
    long = {**PRISMA_COUNTS, "identified": {"PubMed (search 1: " + "interleukin-2 AND " * 12 + "liver)": 299}}
    lay = prisma_layout(long, text_width=width)
    box = lay.box("identified")
    assert len(box.lines) >= 3 and box.lines[-1].endswith("(n = 299)") and box.w < 300


@pytest.fixture(scope="module")
def drawn():
    p = prisma(PRISMA_COUNTS)
    p.figure.draw_without_rendering()
    yield p
    plt.close(p.figure)


def test_drawn_texts_sit_inside_their_boxes(drawn):
    r = drawn.figure.canvas.get_renderer()
    boxes = {p.get_gid()[4:]: p.get_window_extent(r) for p in drawn.ax.patches if (p.get_gid() or "").startswith("box:")}
    lines = {}
    for t in drawn.ax.texts:
        gid = t.get_gid() or ""
        if gid.startswith("text:"):
            name = gid[5:].rsplit(":", 1)[0]
            b, tb = boxes[name], t.get_window_extent(r)
            assert b.x0 - 0.5 <= tb.x0 and tb.x1 <= b.x1 + 0.5 and b.y0 - 0.5 <= tb.y0 and tb.y1 <= b.y1 + 0.5, gid
            lines.setdefault(name, []).append(t.get_text())
    counts_in_boxes(PRISMA_COUNTS, lambda box: lines[box])
    texts = [(t.get_text(), t.get_window_extent(r)) for t in drawn.ax.texts if t.get_text().strip()]
    for (ta, a), (tb, b) in combinations(texts, 2):
        assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5, (ta, tb)


def test_svg_keeps_the_counts_as_text(drawn, tmp_path):
    drawn.savefig(tmp_path / "p.svg")
    svg = (tmp_path / "p.svg").read_text()
    assert "<text" in svg and "Records screened (n = 256)" in svg
    for box in ("identified", "screened", "reports_excluded", "included"):
        assert re.search(rf'id="box:{box}"', svg)
