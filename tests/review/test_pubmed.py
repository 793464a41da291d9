"""PubMed search and fetch against a real local HTTP server (tests/ncbi_server.py)
replaying recorded NCBI responses, with injected faults. No network."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from metail2.cli import main
from metail2.review.store import Store

from tests.conftest import ROOT
from tests.ncbi_server import FakeNCBI, recorded_articles, synthetic_article

TERM = "interleukin-2 AND colorectal"


@pytest.fixture
def ncbi():
    srv = FakeNCBI()
    recs = recorded_articles()
    srv.add_corpus(TERM, [(p, d, x) for p, (d, x) in recs.items()])
    yield srv
    srv.stop()


def synthetic(n: int, start=dt.date(1990, 1, 1), per_day: int = 3, first_pmid: int = 40000000):
    return [(str(first_pmid + i), start + dt.timedelta(days=i // per_day),
             synthetic_article(str(first_pmid + i), start + dt.timedelta(days=i // per_day))) for i in range(n)]


def search(ncbi, db, *extra, term=TERM, key=True):
    argv = ["search", term, "--db", str(db), "--eutils-url", ncbi.url, "--email", "reviewer@example.org",
            "--backoff", "0.05", *extra]
    if key:
        argv += ["--api-key", "test-key"]
    return main(argv)


def stored(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("SELECT pmid, doi, title, year, raw FROM records").fetchall())
    finally:
        con.close()


def test_search_stores_every_recorded_article_and_logs_the_search(ncbi, tmp_path, capsys):
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "3") == 0
    with Store(str(db)) as s:
        recs = {r["pmid"]: r for r in s.records()}
        log = s.db.execute("SELECT * FROM searches").fetchone()
        assert s.schema_version == 1
    assert set(recs) == {"12091962", "9997", "11748933", "11700088", "27797938", "28775130", "30108519"}
    assert recs["27797938"]["doi"] == "10.1136/gutjnl-2016-312510"
    assert log["query"] == TERM and log["count"] == 7 and log["status"] == "complete"
    assert log["tool_version"].startswith("metail2 ") and log["database"] == "pubmed"
    first = ncbi.requests[0][2]
    assert first["tool"] == "metail2" and first["email"] == "reviewer@example.org" and first["api_key"] == "test-key"
    efetches = [p for _, e, p in ncbi.requests if e == "efetch.fcgi"]
    assert len(efetches) == 3 and all("WebEnv" in p for p in efetches)


def test_faults_are_survived(ncbi, tmp_path, capsys):
    ncbi.fault("esearch.fcgi", "500")
    ncbi.fault("efetch.fcgi", "429", 1)
    ncbi.fault("efetch.fcgi", "drop")
    ncbi.fault("efetch.fcgi", "error200")
    ncbi.fault("efetch.fcgi", "html")
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "3") == 0
    assert len(stored(db)) == 7
    times = [(t, e) for t, e, _ in ncbi.requests]
    efetch_times = [t for t, e in times if e == "efetch.fcgi"]
    assert efetch_times[1] - efetch_times[0] >= 1.0  # Retry-After: 1 honoured
    assert not ncbi.faults
    err = capsys.readouterr().err
    for what in ("HTTP 500", "HTTP 429", "body cut off", "Search Backend failed", "not XML"):
        assert what in err or what.lower() in err.lower(), what


def test_expired_webenv_reruns_the_search_step(ncbi, tmp_path, capsys):
    ncbi.fault("efetch.fcgi", "delay", 0)  # first efetch passes
    db = tmp_path / "review.sqlite"
    ncbi.faults.clear()
    # expire the history after the first batch
    orig = ncbi.RequestHandlerClass.handle_request
    count = {"efetch": 0}

    def handle(self, q):
        from urllib.parse import urlparse

        if urlparse(self.path).path.endswith("efetch.fcgi"):
            count["efetch"] += 1
            if count["efetch"] == 2:
                self.server.webenvs.clear()
        return orig(self, q)

    ncbi.RequestHandlerClass.handle_request = handle
    try:
        assert search(ncbi, db, "--batch-size", "3") == 0
    finally:
        ncbi.RequestHandlerClass.handle_request = orig
    assert len(stored(db)) == 7
    esearches = [p for _, e, p in ncbi.requests if e == "esearch.fcgi" and p.get("usehistory") == "y"]
    assert len(esearches) == 2
    assert "WebEnv expired" in capsys.readouterr().err


def test_tries_run_out_then_a_rerun_resumes_without_duplicates(ncbi, tmp_path, capsys):
    db = tmp_path / "review.sqlite"
    # batch 1 succeeds, then batch 2 fails on every try
    orig = ncbi.RequestHandlerClass.handle_request
    state = {"n": 0}

    def handle(self, q):
        from urllib.parse import urlparse

        if urlparse(self.path).path.endswith("efetch.fcgi"):
            state["n"] += 1
            if state["n"] >= 2:
                return self.send(503, b"busy")
        return orig(self, q)

    ncbi.RequestHandlerClass.handle_request = handle
    try:
        assert search(ncbi, db, "--batch-size", "3", "--max-tries", "3") == 4
    finally:
        ncbi.RequestHandlerClass.handle_request = orig
    err = capsys.readouterr().err
    assert "gave up after 3 tries: HTTP 503" in err and "run the same command again to resume" in err
    assert len(stored(db)) == 3
    before = len(ncbi.requests)
    assert search(ncbi, db, "--batch-size", "3") == 0
    out = capsys.readouterr().out
    assert "1 already stored" in out
    assert len(stored(db)) == 7
    assert not [p for _, e, p in ncbi.requests[before:] if e == "esearch.fcgi"]  # the ID list was kept
    with Store(str(db)) as s:
        assert s.db.execute("SELECT COUNT(*) FROM searches").fetchone()[0] == 1
        assert s.db.execute("SELECT COUNT(*) FROM search_records").fetchone()[0] == 7


def test_more_than_10000_results_are_split_by_date_and_complete(ncbi, tmp_path, capsys):
    ncbi.add_corpus("big", synthetic(23000, per_day=7))
    db = tmp_path / "big.sqlite"
    assert search(ncbi, db, "--batch-size", "5000", term="big") == 0
    with Store(str(db)) as s:
        parts = s.db.execute("SELECT count FROM search_parts").fetchall()
        assert len(parts) >= 3 and all(c <= 9999 for (c,) in parts) and sum(c for (c,) in parts) == 23000
        assert s.db.execute("SELECT COUNT(DISTINCT pmid) FROM records").fetchone()[0] == 23000
    assert "split into" in capsys.readouterr().err
    # with a key: never more than 10 requests in any second
    times = sorted(t for t, _, _ in ncbi.requests)
    assert max(sum(1 for u in times if t <= u < t + 0.98) for t in times) <= 10


def test_rate_limit_without_key_is_3_per_second(ncbi, tmp_path, capsys):
    db = tmp_path / "r.sqlite"
    assert search(ncbi, db, "--batch-size", "1", key=False) == 0
    times = sorted(t for t, _, _ in ncbi.requests)
    assert len(times) >= 8
    assert max(sum(1 for u in times if t <= u < t + 0.98) for t in times) <= 3


def test_kill_9_during_fetch_then_rerun_equals_uninterrupted_run(ncbi, tmp_path):
    ncbi.add_corpus("kill", synthetic(1500, per_day=2))
    ncbi.delay = 0.05
    db_a, db_b = tmp_path / "interrupted.sqlite", tmp_path / "uninterrupted.sqlite"
    cmd = [sys.executable, "-m", "metail2", "search", "kill", "--db", str(db_a), "--eutils-url", ncbi.url,
           "--api-key", "k", "--batch-size", "100"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            con = sqlite3.connect(db_a, timeout=1)
            n = con.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
            con.close()
        except sqlite3.OperationalError:
            continue
        if n >= 4:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 4 <= n < 15, n
    assert subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True).returncode == 0
    cmd_b = [c if c != str(db_a) else str(db_b) for c in cmd]
    assert subprocess.run(cmd_b, cwd=ROOT, env=env, capture_output=True).returncode == 0
    a, b = stored(db_a), stored(db_b)
    assert len(a) == 1500 and a == b
    for db in (db_a, db_b):
        con = sqlite3.connect(db)
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT record_id) FROM search_records").fetchone() == (1500, 1500)
        assert con.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 15
        con.close()
