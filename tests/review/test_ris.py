"""RIS in and out (rispy)."""
from __future__ import annotations

from metail2.review.records import ParseIssue
from metail2.review.ris import iter_ris, to_ris


def test_ris_import_and_broken_record(tmp_path):
    p = tmp_path / "x.ris"
    p.write_text("TY  - JOUR\nTI  - Interleukin-2 and 5-FU\nAU  - Okuno, Kiyotaka\nPY  - 1999\n"
                 "DO  - https://doi.org/10.1000/ABC\nER  - \n\n"
                 "TY  - JOUR\nthis line is broken\nER  - \n")
    issues: list[ParseIssue] = []
    recs = list(iter_ris(p, issues))
    assert recs[0].title == "Interleukin-2 and 5-FU" and recs[0].authors == ("Okuno K",)
    assert recs[0].doi == "10.1000/abc" and recs[0].year == 1999
    assert len(recs) + len(issues) == 2


def test_to_ris_reads_back(tmp_path):
    row = {"kind": "article", "title": "IL-2 and 5-FU", "authors": ["Okuno K", "Heys SD"], "year": 1999,
           "journal": "J", "volume": "3", "issue": "1", "abstract": "", "doi": "10.1/x", "mesh_terms": [],
           "language": "eng", "pmid": "123", "pages": "10-19"}
    p = tmp_path / "out.ris"
    p.write_text(to_ris([row]))
    (r,) = list(iter_ris(p))
    assert (r.pmid, r.title, r.authors, r.year, r.doi, r.pages) == \
        ("123", "IL-2 and 5-FU", ("Okuno K", "Heys SD"), 1999, "10.1/x", "10-19")
