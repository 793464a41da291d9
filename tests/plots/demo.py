"""Demonstration data of the figure tests and of the figures in docs/: the
BCG trials (metafor's dat.bcg) with illustrative RoB 2 columns added (not
real judgements), a small records store made from the recorded PubMed
files of tests/fixtures/ncbi, and PRISMA counts for unit tests.

``python -m tests.plots.demo`` redraws docs/prisma_demo.png and
docs/rob_bcg_demo.png (look at them before committing).
"""
from __future__ import annotations

import csv

from tests.conftest import ROOT

BCG = ROOT / "tests" / "validation" / "metafor" / "bcg.csv"
NCBI = ROOT / "tests" / "fixtures" / "ncbi"

#: Illustrative RoB 2 judgements: the randomization domain follows each trial's
#: allocation (random: low; alternate: some concerns; systematic: high); the
#: other domains cycle through a fixed pattern.
_PATTERN = ("low", "low", "low", "some concerns", "low", "low", "high", "low", "some concerns", "low", "low")


def bcg_rob_frame():
    """dat.bcg as a DataFrame with rob_d1 … rob_d5 and rob_overall."""
    import pandas as pd

    rows = list(csv.DictReader(open(BCG, newline="")))
    d1 = {"random": "low", "alternate": "some concerns", "systematic": "high"}
    for i, r in enumerate(rows):
        js = [d1[r["allocation"]]] + [_PATTERN[(3 * i + k) % len(_PATTERN)] for k in range(1, 5)]
        for k, j in enumerate(js, 1):
            r[f"rob_d{k}"] = j
        # RoB 2's overall rule: high if any domain is high or several raise some concerns
        concerns = sum(j == "some concerns" for j in js)
        r["rob_overall"] = ("high" if "high" in js or concerns >= 3 else "some concerns" if concerns else "low")
    return pd.DataFrame(rows, dtype=str)


#: PRISMA 2020 counts of a small review (the shape of `metail2 prisma --json`).
PRISMA_COUNTS = {
    "identified": {"PubMed (search 1: a demonstration query with a long text that wraps in its box)": 212,
                   "file embase.ris (RIS, import 2)": 87},
    "identified_total": 299, "duplicates_removed": 41, "records_removed_other": 2, "screened": 256,
    "excluded_screening": 201, "screening_pending": 3, "screening_conflicts": 1, "reports_sought": 52,
    "reports_assessed": 49, "reports_excluded": {"no response data": 20, "not IL-2": 9, "review or editorial": 6},
    "fulltext_pending": 3, "fulltext_conflicts": 0, "included": 14,
}


def _fill(src, dst, decisions):
    rows = list(csv.DictReader(open(src, newline="")))
    for r in rows:
        if r["pmid"] in decisions:
            r["decision"], r["reason"] = decisions[r["pmid"]]
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def build_demo_store(d) -> str:
    """A records store in folder ``d`` made through the command line: three
    imports and the same records again in a fourth file (duplicates),
    title-abstract screening by two reviewers who disagree once, full-text
    decisions with exclusion reasons. Returns the store's path."""
    from metail2.cli import main

    db = str(d / "r.sqlite")
    files = [str(NCBI / f) for f in ("pubmed1.xml", "pubmed2.xml", "pubmed_result2.txt")]
    assert main(["records", "import", *files, "--db", db]) == 0
    again = d / "pubmed1_again.xml"  # the same records in another file: duplicates
    again.write_bytes((NCBI / "pubmed1.xml").read_bytes() + b"\n")
    assert main(["records", "import", str(again), "--db", db]) == 0
    ta = d / "ta.csv"
    assert main(["screen", "export", "--db", db, "--csv", str(ta)]) == 0
    pmids = [r["pmid"] for r in csv.DictReader(open(ta, newline=""))]
    base = {p: ("include", "") for p in pmids[:4]}
    base.update({p: ("exclude", "not colorectal") for p in pmids[4:6]})
    _fill(ta, d / "a.csv", base)
    _fill(ta, d / "b.csv", {**base, pmids[3]: ("exclude", "not IL-2")})
    assert main(["screen", "import", str(d / "a.csv"), "--db", db, "--reviewer", "A"]) == 0
    assert main(["screen", "import", str(d / "b.csv"), "--db", db, "--reviewer", "B"]) == 0
    ft = d / "ft.csv"
    assert main(["screen", "export", "--db", db, "--stage", "full-text", "--csv", str(ft)]) == 0
    sought = [r["pmid"] for r in csv.DictReader(open(ft, newline=""))]
    _fill(ft, ft, {sought[0]: ("exclude", "no response data"), sought[1]: ("include", ""),
                   **({sought[2]: ("exclude", "review article")} if len(sought) > 2 else {})})
    assert main(["screen", "import", str(ft), "--db", db, "--reviewer", "A", "--stage", "full-text"]) == 0
    return db


def draw_docs_figures() -> None:
    """docs/prisma_demo.png (the demo store, through `metail2 prisma --diagram`) and
    docs/rob_bcg_demo.png (the BCG trials with illustrative RoB 2 judgements, weighted by the RR analysis)."""
    import tempfile
    from pathlib import Path

    from metail2.cli import main

    docs = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = build_demo_store(tmp)
        assert main(["prisma", "--db", db, "--diagram", str(docs / "prisma_demo.png")]) == 0
        sheet = tmp / "bcg_rob.csv"
        bcg_rob_frame().to_csv(sheet, index=False)
        assert main(["rob", str(sheet), "--measure", "RR", "-o", str(docs / "rob_bcg_demo.png")]) == 0


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    draw_docs_figures()
