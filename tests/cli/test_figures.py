"""Figure commands through the command line: `metail2 prisma --diagram`
from a records store (every count of the store in its box), `metail2 rob`,
`metail2 plot --rob`, `--where`, and the plot options of issue 13."""
from __future__ import annotations

import json
import re

import pytest

from metail2.cli import main
from tests.conftest import ROOT
from tests.plots.demo import bcg_rob_frame, build_demo_store

METAFOR = ROOT / "tests" / "validation" / "metafor"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A records store: three imports and a fourth file repeating records (duplicates), screening by
    two reviewers (a conflict), full-text decisions with reasons (tests/plots/demo.py)."""
    return build_demo_store(tmp_path_factory.mktemp("review"))


def test_prisma_diagram_shows_every_count_of_the_store_in_its_box(store, tmp_path, capsys):
    capsys.readouterr()
    svg, png = tmp_path / "p.svg", tmp_path / "p.png"
    assert main(["prisma", "--db", store, "--json", "--diagram", str(svg), "--diagram", str(png)]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert png.stat().st_size > 10_000 and counts["duplicates_removed"] > 0 and counts["reports_excluded"]
    text = svg.read_text()
    boxes = {}
    for m in re.finditer(r'<g id="text:([a-z_]+):\d+">.*?<text[^>]*>(.*?)</text>', text, re.S):
        boxes.setdefault(m.group(1), []).append(m.group(2))
    joined = {k: " ".join(" ".join(v.split()) for v in lines).replace("&amp;", "&") for k, lines in boxes.items()}
    want = {"identified": [f"(n = {n})" for n in counts["identified"].values()],
            "removed": [f"Duplicate records removed (n = {counts['duplicates_removed']})",
                        f"(withdrawn) (n = {counts['records_removed_other']})"],
            "screened": [f"Records screened (n = {counts['screened']})"],
            "excluded": [f"Records excluded (n = {counts['excluded_screening']})"]
            + ([f"awaiting screening (n = {counts['screening_pending']})"] if counts["screening_pending"] else [])
            + ([f"disagree (n = {counts['screening_conflicts']})"] if counts["screening_conflicts"] else []),
            "sought": [f"Reports sought for retrieval (n = {counts['reports_sought']})"],
            "not_retrieved": [f"(n = {counts['fulltext_pending']})"],
            "assessed": [f"Reports assessed for eligibility (n = {counts['reports_assessed']})"],
            "reports_excluded": [f"Reports excluded (n = {sum(counts['reports_excluded'].values())})"]
            + [f"{r} (n = {n})" for r, n in counts["reports_excluded"].items()],
            "included": [f"Studies included in review (n = {counts['included']})"]}
    assert counts["screening_conflicts"] == 1
    for box, texts in want.items():
        for t in texts:
            assert t in joined[box], (box, t, joined[box])


def test_prisma_diagram_refuses_other_formats(store, tmp_path, capsys):
    assert main(["prisma", "--db", store, "--diagram", str(tmp_path / "p.gif")]) == 2
    assert "use a .png, .svg or .pdf" in capsys.readouterr().err


@pytest.fixture(scope="module")
def rob_sheet(tmp_path_factory):
    path = tmp_path_factory.mktemp("rob") / "bcg_rob.csv"
    bcg_rob_frame().to_csv(path, index=False)
    return path


def test_rob_command_writes_traffic_light_and_summary(rob_sheet, tmp_path, capsys):
    out = tmp_path / "rob.png"
    assert main(["rob", str(rob_sheet), "-o", str(out), "-o", str(tmp_path / "rob.svg"), "--measure", "RR"]) == 0
    assert out.stat().st_size > 10_000
    svg = (tmp_path / "rob.svg").read_text()
    assert svg.count('id="rob:') == 13 * 6 and "Share of the analysis" in svg
    assert main(["rob", str(METAFOR / "bcg.csv"), "-o", str(tmp_path / "x.png")]) == 2
    assert "no risk-of-bias columns" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_plot_with_rob_columns(rob_sheet, tmp_path):
    out = tmp_path / "f.svg"
    assert main(["plot", str(rob_sheet), "--measure", "RR", "--rob", "-o", str(out)]) == 0
    svg = out.read_text()
    assert svg.count('id="rob:') == 13 * 6 and "Risk of bias" in svg


def test_where_restricts_the_analysis_to_low_risk_of_bias(rob_sheet, capsys):
    frame = bcg_rob_frame()
    keep = frame[frame.rob_overall.isin(["low", "some concerns"])]
    assert main(["pool", str(rob_sheet), "--measure", "RR", "--json", "--where", "rob_overall=low,some concerns"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [s["study_id"] for s in result["studies"]] == list(keep.study_id)
    assert main(["pool", str(rob_sheet), "--measure", "RR", "--where", "rob_overall=unclear"]) == 2
    assert "no row" in capsys.readouterr().err
    assert main(["pool", str(rob_sheet), "--measure", "RR", "--where", "risk=low"]) == 2
    assert "no column 'risk'" in capsys.readouterr().err


def test_plot_where_notes_the_restriction(rob_sheet, tmp_path):
    out = tmp_path / "f.svg"
    assert main(["plot", str(rob_sheet), "--measure", "RR", "--where", "rob_overall=low,some concerns",
                 "-o", str(out)]) == 0
    assert "Only rows with rob_overall = low or some concerns (--where)" in out.read_text()


def test_plot_options_of_issue_13(tmp_path, capsys):
    out = tmp_path / "f.svg"
    args = ["plot", str(METAFOR / "bcg.csv"), "--measure", "RR", "--by", "allocation", "-o", str(out)]
    assert main(args + ["--xlim", "0.01", "100", "--width", "10", "--height", "7", "--sort", "effect",
                        "--i2", "tau2", "--label-width", "1.5"]) == 0
    svg = out.read_text()
    assert re.search(r'width="(\d+(\.\d+)?)pt"', svg)
    assert ">0.01<" in svg and ">100<" in svg
    assert main(args + ["--xlim", "2", "1"]) == 2
    assert "lower limit must be below" in capsys.readouterr().err
    assert main(args + ["--width", "1", "--height", "1"]) == 2
    assert "does not fit" in capsys.readouterr().err
    assert main(args + ["--width", "-3"]) == 2


def test_plot_with_the_forestplot_engine(tmp_path):
    pytest.importorskip("forestplot")
    out = tmp_path / "f.png"
    assert main(["plot", str(METAFOR / "normand1999.csv"), "--measure", "MD", "--engine", "forestplot",
                 "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000


def test_funnel_with_labels_and_contours_refused_for_proportions(tmp_path, capsys):
    il2 = ROOT / "extraction" / "il2_crc_response.csv"
    assert main(["funnel", str(il2), "--measure", "PLO", "--contours", "-o", str(tmp_path / "f.png")]) == 2
    assert "null" in capsys.readouterr().err
    out = tmp_path / "g.svg"
    assert main(["funnel", str(METAFOR / "bcg.csv"), "--measure", "RR", "--by", "allocation", "--labels",
                 "-o", str(out)]) == 0
    assert "Aronson 1948" in out.read_text()
