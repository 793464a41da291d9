"""PRISMA 2020 counts: which decision and which exclusion reason count when
reviewers disagree, and the flow end to end through the command line."""
from __future__ import annotations

import csv
import json

import pytest

from metail2.cli import main
from metail2.review import open_store, prisma_counts
from metail2.review.records import Record

from tests.conftest import ROOT
from tests.review.conftest import fill

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def test_two_reviewers_conflicts_and_prisma(tmp_path, capsys):
    db = str(tmp_path / "s.sqlite")
    main(["records", "import", str(NCBI / "pubmed1.xml"), str(NCBI / "pubmed2.xml"), str(NCBI / "pubmed_result2.txt"),
          "--db", db])
    # the same file again, and a copy under another name: recognised by content, not counted twice
    copy = tmp_path / "copy.xml"
    copy.write_bytes((NCBI / "pubmed1.xml").read_bytes())
    capsys.readouterr()
    assert main(["records", "import", str(NCBI / "pubmed1.xml"), str(copy), "--db", db]) == 0
    out = capsys.readouterr().out
    assert out.count("already imported (import 1 of") == 2 and "not counted again" in out
    sheet = tmp_path / "ta.csv"
    assert main(["screen", "export", "--db", db, "--csv", str(sheet)]) == 0
    assert len(list(csv.DictReader(open(sheet)))) == 8
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    base = {"12091962": ("exclude", "not colorectal"), "9997": ("exclude", "not clinical"),
            "11748933": ("include", ""), "11700088": ("include", "")}
    fill(sheet, a, base)
    fill(sheet, b, {**base, "11700088": ("exclude", "not IL-2")})
    assert main(["screen", "import", str(a), "--db", db, "--reviewer", "A"]) == 0
    assert main(["screen", "import", str(b), "--db", db, "--reviewer", "B"]) == 0
    out = capsys.readouterr().out
    assert "conflict: record" in out and "A=include, B=exclude" in out
    assert main(["screen", "conflicts", "--db", db]) == 1
    capsys.readouterr()
    ft = tmp_path / "ft.csv"
    assert main(["screen", "export", "--db", db, "--stage", "full-text", "--csv", str(ft)]) == 0
    assert [r["pmid"] for r in csv.DictReader(open(ft))] == ["11748933"]
    fill(ft, ft, {"11748933": ("exclude", "no response data")})
    assert main(["screen", "import", str(ft), "--db", db, "--reviewer", "A", "--stage", "full-text"]) == 0
    capsys.readouterr()
    assert main(["prisma", "--db", db, "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["identified_total"] == 8 and p["duplicates_removed"] == 0 and p["screened"] == 8
    assert p["excluded_screening"] == 2 and p["screening_conflicts"] == 1 and p["screening_pending"] == 5
    assert p["reports_sought"] == 1 and p["reports_assessed"] == 1
    assert p["reports_excluded"] == {"no response data": 1} and p["included"] == 0
    assert main(["prisma", "--db", db]) == 0
    assert "Duplicate records removed: 0" in capsys.readouterr().out


def full_text_review(path, full_text: list[tuple[str, int, str, str]]):
    """A store of six records, every one included at title-abstract, with
    ``full_text`` decisions (reviewer, record number 0-5, decision, reason)
    stored in the order given."""
    s = open_store(path, create=True)
    sid = s.start_search("file", "a", "pubmed-xml", {}, None)
    ids = [r.record_id for r in s.add_records(sid, [Record(pmid=str(i), title=f"R{i}", raw=str(i)) for i in range(6)])]
    s.save_decisions("title-abstract", "A", [(rid, "include", "") for rid in ids])
    for reviewer, i, decision, reason in full_text:
        s.save_decisions("full-text", reviewer, [(ids[i], decision, reason)])
    return s


DISAGREEING = [
    ("A", 0, "exclude", "no response data"), ("B", 0, "exclude", "not IL-2"),  # same decision, reasons differ
    ("A", 1, "exclude", "no response data"), ("B", 1, "exclude", "not IL-2"),  # ... settled by consensus
    ("consensus", 1, "exclude", "not IL-2"),
    ("A", 2, "exclude", "wrong population"), ("consensus", 2, "exclude", "no response data"),  # consensus wins
    ("A", 3, "include", ""), ("B", 3, "exclude", "not IL-2"),  # decisions differ
    ("A", 4, "exclude", "no response data"), ("B", 4, "exclude", "no response data"),  # agreed
    ("A", 5, "include", ""), ("B", 5, "include", ""),
]


@pytest.mark.parametrize("order", [1, -1], ids=["as-listed", "reversed"])
def test_disagreeing_reviewers_exclusion_reasons_are_settled_or_reported_as_conflicts(tmp_path, order):
    with full_text_review(tmp_path / "s.sqlite", DISAGREEING[::order]) as s:
        p = prisma_counts(s)
    assert p.reports_sought == 6
    # record 0 (reasons differ) and record 3 (decisions differ) await a consensus
    assert p.fulltext_conflicts == 2 and p.fulltext_pending == 2 and p.reports_assessed == 4
    # record 1: the consensus reason; record 2: the consensus, not reviewer A; record 4: the agreed reason
    assert p.reports_excluded == {"no response data": 2, "not IL-2": 1}
    assert p.included == 1
    assert "  Reports awaiting assessment: 2 (conflicts: 2)\n" in p.table()


def test_no_full_text_conflicts_leave_the_table_as_it_was(tmp_path):
    with full_text_review(tmp_path / "s.sqlite", [("A", 0, "exclude", "no data")]) as s:
        p = prisma_counts(s)
    assert p.fulltext_conflicts == 0 and p.reports_excluded == {"no data": 1}
    assert "  Reports awaiting assessment: 5\nIncluded\n" in p.table()
