"""The E-utilities client: reading replies, surviving faults, keeping to the
rate limit. Against a real local HTTP server (tests/ncbi_server.py); no network."""
from __future__ import annotations

import pytest

from metail2.review.eutils import EutilsClient, EutilsError, WebEnvExpired, _Retry, parse_efetch, parse_esearch
from tests.conftest import ROOT
from tests.review.conftest import TERM, max_per_second, search, stored

NCBI = ROOT / "tests" / "fixtures" / "ncbi"


def test_recorded_esearch_replies_parse():
    r1 = parse_esearch((NCBI / "esearch1.xml").read_bytes())
    assert r1.count == 63 and len(r1.ids) == 20 and r1.webenv is None
    r2 = parse_esearch((NCBI / "esearch2.xml").read_bytes())
    assert r2.count == 42249 and len(r2.ids) == 100 and r2.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert r2.query_key == "1"
    r3 = parse_esearch((NCBI / "esearch3.xml").read_bytes())
    assert r3.count == 2651 and len(r3.ids) == 6
    r8 = parse_esearch((NCBI / "esearch8.xml").read_bytes())
    assert r8.count == 0 and r8.ids == ()


def test_efetch_errors_expired_history_versus_retry():
    expired = b'<?xml version="1.0"?>\n<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>'
    with pytest.raises(WebEnvExpired):
        parse_efetch(expired)
    backend = b'<?xml version="1.0"?>\n<eFetchResult><ERROR>Search Backend failed</ERROR></eFetchResult>'
    with pytest.raises(_Retry, match="Search Backend failed"):
        parse_efetch(backend)
    data = (NCBI / "pubmed2.xml").read_bytes()
    with pytest.raises(_Retry, match="cut off"):
        parse_efetch(data[: len(data) // 2])
    assert [r.pmid for r in parse_efetch(data)] == ["11748933", "11700088"]


def test_hostile_or_garbled_replies_ask_for_a_retry():
    from tests.ncbi_server import HOSTILE

    for body in (HOSTILE, HOSTILE.replace(b"PubmedArticleSet [", b"eSearchResult [")):
        with pytest.raises(_Retry, match="internal DTD subset"):
            parse_efetch(body)
        with pytest.raises(_Retry, match="internal DTD subset"):
            parse_esearch(body)
    for count in (b"abc", b"-1", b"1e3", b"\xd9\xa3", b""):
        with pytest.raises(_Retry, match="Count"):
            parse_esearch(b"<eSearchResult><Count>" + count + b"</Count><IdList/></eSearchResult>")
    with pytest.raises(_Retry, match="not a PMID"):
        parse_esearch(b"<eSearchResult><Count>1</Count><IdList><Id>x1</Id></IdList></eSearchResult>")


def test_a_hostile_reply_is_retried_then_the_search_completes(ncbi, tmp_path, capsys):
    ncbi.fault("esearch.fcgi", "badcount")
    ncbi.fault("efetch.fcgi", "entities")
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "10") == 0
    assert len(stored(db)) == 7 and not ncbi.faults
    err = capsys.readouterr().err
    assert "<Count>abc</Count> is not a whole number; try 2 of 6" in err
    assert "internal DTD subset" in err and "Traceback" not in err


def test_a_reply_that_stays_hostile_is_exit_4_and_resumable(ncbi, tmp_path, capsys):
    for _ in range(2):
        ncbi.fault("efetch.fcgi", "entities")
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "10", "--max-tries", "2") == 4
    err = capsys.readouterr().err
    assert "metail2: error: efetch.fcgi: gave up after 2 tries: EFetch reply refused:" in err
    assert "run the same command again to resume" in err and "Traceback" not in err
    assert search(ncbi, db, "--batch-size", "10") == 0 and len(stored(db)) == 7


def test_the_server_lists_at_most_max_ids(ncbi):
    client = EutilsClient(base_url=ncbi.url, api_key="k")
    assert client.max_ids == 9999  # NCBI's
    ncbi.id_limit = 4
    r = client.esearch(TERM, retmax=100)
    assert r.count == 7 and len(r.ids) == 4


@pytest.mark.slow  # Retry-After: 1 is honoured, and five faults are retried
def test_faults_are_survived(ncbi, tmp_path, capsys):
    ncbi.fault("esearch.fcgi", "500")
    ncbi.fault("efetch.fcgi", "429", 1)
    ncbi.fault("efetch.fcgi", "drop")
    ncbi.fault("efetch.fcgi", "error200")
    ncbi.fault("efetch.fcgi", "html")
    db = tmp_path / "review.sqlite"
    assert search(ncbi, db, "--batch-size", "3") == 0
    assert len(stored(db)) == 7
    efetch_times = [t for t, e, _ in ncbi.requests if e == "efetch.fcgi"]
    assert efetch_times[1] - efetch_times[0] >= 1.0  # Retry-After: 1 honoured
    assert not ncbi.faults
    err = capsys.readouterr().err
    for what in ("HTTP 500", "HTTP 429", "body cut off", "Search Backend failed", "not XML"):
        assert what in err or what.lower() in err.lower(), what


def test_a_client_error_is_not_retried(ncbi):
    client = EutilsClient(base_url=ncbi.url, tool="not-metail2", backoff=0.01)
    with pytest.raises(EutilsError, match="HTTP 400"):
        client.esearch(TERM)
    assert len(ncbi.requests) == 1


@pytest.mark.slow  # 3 requests per second, by design
def test_rate_limit_without_key_is_3_per_second(ncbi, tmp_path):
    db = tmp_path / "r.sqlite"
    assert search(ncbi, db, "--batch-size", "3", key=False) == 0
    times = [t for t, _, _ in ncbi.requests]
    assert len(times) >= 5  # 2 ESearch + 3 EFetch: unlimited, all would fall within one second
    assert max_per_second(times) <= 3
