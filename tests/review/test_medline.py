"""MEDLINE text (PubMed's .txt/.nbib export), via Biopython."""
from __future__ import annotations

from metail2.review.medline import iter_medline
from metail2.review.records import ParseIssue

from tests.conftest import ROOT

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def test_medline_text_via_biopython():
    (r,) = list(iter_medline(NCBI / "pubmed_result1.txt"))
    assert r.pmid == "12230038" and r.doi is None and len(r.mesh_terms) == 7 and r.raw_format == "medline"
    recs = list(iter_medline(NCBI / "pubmed_result2.txt"))
    assert [x.pmid for x in recs] == ["16403221", "16377612", "14871861", "14630660"]
    assert recs[0].doi == "10.1186/1471-2105-7-10"


def test_a_record_without_pmid_is_skipped_and_named(tmp_path):
    p = tmp_path / "x.nbib"
    p.write_text("PMID- 1\nTI  - One.\nDP  - 1999 Jan\nCN  - IL-2 Study Group\n\nPMID- x\nTI  - Bad.\n")
    issues: list[ParseIssue] = []
    (r,) = list(iter_medline(p, issues))
    assert r.pmid == "1" and r.year == 1999 and r.authors == ("IL-2 Study Group",)
    assert [(i.where, i.message) for i in issues] == [("record 2 (line 6)", "no PMID: skipped")]
