"""What the report tests share: a small sheet written to be hostile (a study
named ``<script>alert(1)</script>``, quotes and ampersands in its cells), with
PMIDs, DOIs and risk-of-bias judgements; a records store built from the
recorded PubMed fixtures; and reports written once per session."""
from __future__ import annotations

import csv

import pytest

from metail2.cli import main
from tests.conftest import ROOT
from tests.review.conftest import fill

NCBI = ROOT / "tests" / "fixtures" / "ncbi"
IL2 = ROOT / "extraction" / "il2_crc_response.csv"
BCG = ROOT / "tests" / "validation" / "metafor" / "bcg.csv"
XSS = "<script>alert(1)</script>"

#: study_id, pmid, doi, route, events, total, rob_d1..rob_d5, rob_overall
ROWS = [
    (XSS, "11748933", "", "systemic", 5, 16, "low", "low", "some concerns", "low", "low", "some concerns"),
    ('Quote "&" 2001', "11700088", "10.1000/xyz(1)", "systemic", 3, 22, "low", "high", "low", "low", "low", "high"),
    ("Smith 1999", "", "10.1016/s0753-3322(98)80027-9", "locoregional", 19, 25, "low", "low", "low", "low", "low", "low"),
    ("Jones 2003", "12091962", "", "locoregional", 12, 20, "some concerns", "low", "low", "low", "low", "some concerns"),
    ("Unknown route 2005", "9997", "", "not reported", 1, 9, "high", "high", "high", "low", "low", "high"),
    ("No data 2010", "", "", "systemic", "", "", "", "", "", "", "", ""),
    ('Lee <b>bold</b> 2007', "", "", "systemic", 6, 12, "low", "low", "low", "low",
     "low", "low"),
]
PMIDS = {"11748933", "11700088", "12091962", "9997"}


def write_hostile_sheet(path) -> None:
    head = ["study_id", "pmid", "doi", "route", "events", "total", "rob_d1", "rob_d2", "rob_d3", "rob_d4", "rob_d5",
            "rob_overall", "outcome"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(head)
        for r in ROWS:
            w.writerow(list(r) + ["response"])


@pytest.fixture(scope="session")
def hostile_sheet(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    path = d / "sheet.csv"
    write_hostile_sheet(path)
    return path


def make_store(directory) -> str:
    """A records store from the recorded PubMed files, screened: 2 excluded
    at title/abstract, 2 included at full text (one excluded with a reason)."""
    db = str(directory / "review.sqlite")
    assert main(["records", "import", str(NCBI / "pubmed1.xml"), str(NCBI / "pubmed2.xml"), "--db", db]) == 0
    ta = directory / "ta.csv"
    assert main(["screen", "export", "--db", db, "--csv", str(ta)]) == 0
    fill(ta, ta, {"12091962": ("include", ""), "9997": ("exclude", "not clinical"),
                  "11748933": ("include", ""), "11700088": ("include", "")})
    assert main(["screen", "import", str(ta), "--db", db, "--reviewer", "consensus"]) == 0
    ft = directory / "ft.csv"
    assert main(["screen", "export", "--db", db, "--stage", "full-text", "--csv", str(ft)]) == 0
    fill(ft, ft, {"12091962": ("exclude", "no response data"), "11748933": ("include", ""),
                  "11700088": ("include", "")})
    assert main(["screen", "import", str(ft), "--db", db, "--reviewer", "consensus", "--stage", "full-text"]) == 0
    return db


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="session")
def hostile_report(hostile_sheet, store, tmp_path_factory):
    """The hostile sheet's report with PRISMA counts, written by the command line."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(hostile_sheet), "--measure", "PLO", "--by", "route", "--db", store,
                 "-o", str(out)]) == 0
    return out
