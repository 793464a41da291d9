"""Demonstration data of the figure tests and of the figures in docs/ (not
real judgements): the BCG trials (metafor's dat.bcg) with RoB 2 columns
added, and PRISMA counts of a small review."""
from __future__ import annotations

import csv

from tests.conftest import ROOT

BCG = ROOT / "tests" / "validation" / "metafor" / "bcg.csv"

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
    "identified": {"PubMed (search 1: interleukin-2 AND colorectal neoplasms AND liver)": 212,
                   "file embase.ris (RIS, import 2)": 87},
    "identified_total": 299, "duplicates_removed": 41, "records_removed_other": 2, "screened": 256,
    "excluded_screening": 201, "screening_pending": 3, "screening_conflicts": 1, "reports_sought": 52,
    "reports_assessed": 49, "reports_excluded": {"no response data": 20, "not IL-2": 9, "review or editorial": 6},
    "fulltext_pending": 3, "fulltext_conflicts": 0, "included": 14,
}
