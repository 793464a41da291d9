"""What the review tests share: a fake NCBI on 127.0.0.1 holding the recorded
articles, and the ``metail2 search`` command pointed at it."""
from __future__ import annotations

import csv
import datetime as dt
import sqlite3

import pytest

from metail2.cli import main
from tests.ncbi_server import FakeNCBI, recorded_articles, synthetic_article

TERM = "interleukin-2 AND colorectal"


@pytest.fixture
def ncbi():
    srv = FakeNCBI()
    srv.add_corpus(TERM, [(p, d, x) for p, (d, x) in recorded_articles().items()])
    yield srv
    srv.stop()


def synthetic(n: int, start=dt.date(1990, 1, 1), per_day: int = 3, first_pmid: int = 40000000):
    """``n`` synthetic articles, ``per_day`` per publication date from ``start``."""
    return [(str(first_pmid + i), start + dt.timedelta(days=i // per_day),
             synthetic_article(str(first_pmid + i), start + dt.timedelta(days=i // per_day))) for i in range(n)]


def search(ncbi, db, *extra, term=TERM, key=True):
    """``metail2 search`` against the fake server (first retry after 0.05 s)."""
    argv = ["search", term, "--db", str(db), "--eutils-url", ncbi.url, "--email", "reviewer@example.org",
            "--backoff", "0.05", *extra]
    if key:
        argv += ["--api-key", "test-key"]
    return main(argv)


def stored(db) -> list[tuple]:
    """Every stored record's PMID, DOI, title, year and raw text, read with sqlite3 directly."""
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("SELECT pmid, doi, title, year, raw FROM records").fetchall())
    finally:
        con.close()


def max_per_second(times) -> int:
    """The most requests in any window of 0.9 s, as the server saw them: the
    client spaces them by 1/rate, and the server's clock may see two of them
    up to 0.1 s closer than sent on a loaded machine (a window of 0.98 s
    failed 1 run in 8 with 2 cores busy); with no limit at all, every request
    of these tests would fall in one window."""
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + 0.9) for t in times)


def fill(src, dst, decisions):
    """Copy a screening sheet, filling (decision, reason) by PMID."""
    rows = list(csv.DictReader(open(src, newline="")))
    for r in rows:
        d = decisions.get(r["pmid"])
        if d:
            r["decision"], r["reason"] = d
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
