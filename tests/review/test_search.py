"""PubMed search runs: fetch into the store, resume, split by date, survive an
expired WebEnv and kill -9. Against a real local HTTP server
(tests/ncbi_server.py) replaying recorded NCBI responses; no network."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from metail2.review import EutilsClient, EutilsError, open_store, run_search
from metail2.review.store.sqlite import SCHEMA_VERSION
from tests.conftest import ROOT
from tests.ncbi_server import FakeNCBI
from tests.review.conftest import TERM, max_per_second, search, stored, synthetic


def test_search_stores_every_recorded_article_and_logs_the_search(ncbi, tmp_path, capsys):
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "3") == 0
    with open_store(db) as s:
        recs = {r["pmid"]: r for r in s.records()}
        (log,) = s.searches()
        assert s.schema_version == SCHEMA_VERSION
    assert set(recs) == {"12091962", "9997", "11748933", "11700088", "27797938", "28775130", "30108519"}
    assert recs["27797938"]["doi"] == "10.1136/gutjnl-2016-312510"
    assert log.query == TERM and log.count == 7 and log.status == "complete"
    assert log.tool_version.startswith("metail2 ") and log.database == "pubmed"
    first = ncbi.requests[0][2]
    assert first["tool"] == "metail2" and first["email"] == "reviewer@example.org" and first["api_key"] == "test-key"
    efetches = [p for _, e, p in ncbi.requests if e == "efetch.fcgi"]
    assert len(efetches) == 3 and all("WebEnv" in p for p in efetches)
    assert "search 1: 7 records in 1 part(s); 3 batches fetched, 0 already stored; 7 new records" \
        in capsys.readouterr().out


def test_expired_webenv_reruns_the_search_step(ncbi, tmp_path, capsys):
    ncbi.fault("efetch.fcgi", "expire", skip=1)  # the history server forgets the WebEnv before batch 2
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "3") == 0
    assert not ncbi.faults
    assert len(stored(db)) == 7
    history = [p for _, e, p in ncbi.requests if e == "esearch.fcgi" and p.get("usehistory") == "y"]
    assert len(history) == 2
    efetches = [p for _, e, p in ncbi.requests if e == "efetch.fcgi"]
    assert [p["retstart"] for p in efetches] == ["0", "3", "3", "6"]  # batch 2 again, from the new history
    assert efetches[1]["WebEnv"] == efetches[0]["WebEnv"] != efetches[2]["WebEnv"] == efetches[3]["WebEnv"]
    assert "WebEnv expired" in capsys.readouterr().err


def test_tries_run_out_then_a_rerun_resumes_without_duplicates(ncbi, tmp_path, capsys):
    db = tmp_path / "review.sqlite"
    for i in range(3):  # batch 1 succeeds, then batch 2 fails on every try
        ncbi.fault("efetch.fcgi", "500", skip=1 if i == 0 else 0)
    assert search(ncbi, db, "--batch-size", "3", "--max-tries", "3") == 4
    err = capsys.readouterr().err
    assert "gave up after 3 tries: HTTP 500" in err and "run the same command again to resume" in err
    assert len(stored(db)) == 3
    before = len(ncbi.requests)
    assert search(ncbi, db, "--batch-size", "3") == 0
    assert "1 already stored" in capsys.readouterr().out
    assert len(stored(db)) == 7
    assert not [p for _, e, p in ncbi.requests[before:] if e == "esearch.fcgi"]  # the ID list was kept
    with open_store(db) as s:
        (log,) = s.searches()
        assert log.status == "complete" and s.search_record_count(log.id) == 7


def test_a_search_larger_than_the_id_limit_is_split_by_date_and_complete(tmp_path):
    # NCBI lists the first 10,000 IDs of a search; here the server and the client agree on 25
    srv = FakeNCBI(id_limit=25)
    srv.add_corpus("big", synthetic(60, start=dt.date(1990, 1, 1), per_day=2))  # 1990-01-01 .. 01-30
    log: list[str] = []
    try:
        client = EutilsClient(base_url=srv.url, api_key="k", backoff=0.05, max_ids=25)
        with open_store(tmp_path / "big.sqlite", create=True) as s:
            run = run_search(s, client, "big", batch_size=20, mindate="1990/01/01", maxdate="1990/01/31",
                             log=log.append)
            parts = s.search_parts(run.search_id)
            assert s.count_records() == 60 and run.records_new == 60 and not run.records_missing
    finally:
        srv.stop()
    assert run.count == 60 and run.parts == len(parts) >= 3
    assert all(p.count <= 25 for p in parts) and sum(p.count for p in parts) == 60
    assert [(p.mindate, p.maxdate) for p in parts] == [("1990/01/01", "1990/01/08"), ("1990/01/09", "1990/01/16"),
                                                       ("1990/01/17", "1990/01/24"), ("1990/01/25", "1990/01/31")]
    assert any("split into 4 date ranges of at most 25" in m for m in log)
    assert max_per_second(t for t, _, _ in srv.requests) <= 10  # with a key: 10 requests/s


def test_more_records_on_one_date_than_the_limit_stop_before_anything_is_logged(tmp_path):
    srv = FakeNCBI(id_limit=25)
    srv.add_corpus("one day", synthetic(30, per_day=30))
    try:
        client = EutilsClient(base_url=srv.url, api_key="k", max_ids=25)
        with open_store(tmp_path / "s.sqlite", create=True) as s:
            with pytest.raises(EutilsError, match="30 records share the publication date 1990/01/01"):
                run_search(s, client, "one day", mindate="1990/01/01", maxdate="1990/01/01")
            assert s.searches() == []
    finally:
        srv.stop()


@pytest.mark.slow  # three real processes and 35 rate-limited requests
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
