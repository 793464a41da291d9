"""The records store: opening by path or URL, schema and migrations,
transactions, the search log, de-duplication, decisions."""
from __future__ import annotations

import sqlite3

import pytest

from metail2.review.records import Deletion, Record
from metail2.review.store import Store, StoreError, open_store
from metail2.review.store.sqlite import SCHEMA_VERSION, SQLiteStore


def test_open_store_takes_a_path_or_a_sqlite_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for target, made in ((tmp_path / "a.sqlite", tmp_path / "a.sqlite"), ("b.sqlite", tmp_path / "b.sqlite"),
                         ("sqlite:///c.sqlite", tmp_path / "c.sqlite"),
                         (f"sqlite:///{tmp_path}/d%20e.sqlite", tmp_path / "d e.sqlite")):
        with open_store(target, create=True) as s:
            assert isinstance(s, Store) and s.schema_version == SCHEMA_VERSION
        assert made.exists(), target
    with open_store("sqlite://") as s:  # in memory
        assert isinstance(s, SQLiteStore) and s.path == ":memory:" and s.record_ids() == set()


def test_an_unknown_url_scheme_is_refused(tmp_path):
    with pytest.raises(StoreError, match=r"no store backend for postgresql:// URLs \(known: sqlite://"):
        open_store("postgresql://db.example.org/review")


def test_new_store_has_schema_version_and_tables(tmp_path):
    with SQLiteStore(str(tmp_path / "s.sqlite"), create=True) as s:
        assert s.schema_version == SCHEMA_VERSION
        tables = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "searches", "search_parts", "search_pmids", "records", "search_records", "screening",
            "batches"} <= tables


def test_reopening_does_not_migrate_again(tmp_path):
    p = tmp_path / "s.sqlite"
    open_store(p, create=True).close()
    with open_store(p) as s:
        assert s.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "s.sqlite"
    open_store(p, create=True).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(p)


def test_a_failed_transaction_leaves_nothing(tmp_path):
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        sid = s.start_search("file", "x", "ris", {}, None)

        def items():
            yield Record(pmid="1", title="one", raw="r1")
            raise OSError("disk gone (simulated)")

        with pytest.raises(OSError):
            s.add_records(sid, items())
        assert s.record_ids(duplicates=True, withdrawn=True) == set() and s.search_record_count(sid) == 0


def test_search_log_parts_ids_and_batches(tmp_path):
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        sid = s.start_search("pubmed", "q", "pubmed", {"batch_size": 2}, 3,
                             [("1990/01/01", "1990/06/30", 2), ("1990/07/01", "1990/12/31", 1)])
        assert [(p.part, p.mindate, p.count) for p in s.search_parts(sid)] == [(0, "1990/01/01", 2),
                                                                              (1, "1990/07/01", 1)]
        assert s.unfinished_search("q", {"batch_size": 2}).id == sid
        assert s.unfinished_search("q", {"batch_size": 3}) is None
        assert s.part_pmids(sid, 0) == []
        s.save_part_pmids(sid, 0, ["20", "10"])
        assert s.part_pmids(sid, 0) == ["20", "10"]  # ESearch's order
        s.add_records(sid, [Record(pmid="20", title="a", raw="a"), Record(pmid="10", title="b", raw="b")],
                      batch=(0, 0, 2))
        assert s.fetched_batches(sid, 0) == {0} and s.fetched_batches(sid, 1) == set()
        s.finish_search(sid, "complete")
        (log,) = s.searches()
        assert (log.status, log.count, log.params, log.message) == ("complete", 3, {"batch_size": 2}, None)
        assert log.completed_at and s.unfinished_search("q", {"batch_size": 2}) is None
        fid = s.start_search("file", "/x.ris", "ris", {}, None)
        s.finish_search(fid, "complete", "1 skipped", count=4)
        assert [(x.count, x.message) for x in s.searches()] == [(3, None), (4, "1 skipped")]


def test_duplicates_by_pmid_doi_then_title_are_linked_and_counted(tmp_path):
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        a = s.start_search("file", "a", "pubmed-xml", {}, None)
        b = s.start_search("file", "b", "ris", {}, None)
        s.add_records(a, [Record(pmid="1", title="IL-2 and 5-FU.", year=1999, authors=("Okuno K",),
                                 doi="10.1/X", raw="a1"),
                          Record(pmid="2", title="Another trial", year=2001, authors=("Heys SD",), raw="a2")])
        res = s.add_records(b, [Record(pmid="1", title="IL-2 and 5-FU", raw="b0"),
                                Record(pmid=None, title="Whatever", doi="https://doi.org/10.1/x", raw="b1"),
                                Record(pmid=None, title="ANOTHER  trial!", year=2001, authors=("Heys S",), raw="b2"),
                                Record(pmid=None, title="New one", year=2002, raw="b3")])
        assert [r.status for r in res] == ["existing", "duplicate", "duplicate", "new"]
        assert [r.reason for r in res][1:3] == ["same DOI", "same title, year and first author"]
        assert len(s.records()) == 3 and len(s.records(include_duplicates=True)) == 5
        assert s.search_record_count(a) == 2 and s.search_record_count(b) == 4
        assert len(s.record_ids()) == 3 and len(s.record_ids(duplicates=True)) == 5


def test_deletions_withdraw_records(tmp_path):
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        sid = s.start_search("file", "a", "pubmed-xml", {}, None)
        s.add_records(sid, [Record(pmid="1", title="one", raw="1"), Record(pmid="2", title="two", raw="2"),
                            Deletion(("1",))])
        assert s.count_records() == 1 and s.count_records(withdrawn=True) == 1
        assert [r["pmid"] for r in s.records()] == ["2"] and len(s.record_ids(withdrawn=True)) == 2


def test_decisions_replace_a_reviewers_earlier_one(tmp_path):
    with open_store(tmp_path / "s.sqlite", create=True) as s:
        sid = s.start_search("file", "a", "pubmed-xml", {}, None)
        (r1, r2) = (x.record_id for x in s.add_records(sid, [Record(pmid="1", title="one", raw="1"),
                                                              Record(pmid="2", title="two", raw="2")]))
        s.save_decisions("full-text", "B", [(r1, "exclude", "no data")])
        s.save_decisions("full-text", "A", [(r2, "include", ""), (r1, "exclude", "not IL-2")])
        s.save_decisions("full-text", "A", [(r1, "include", "")])
        got = [(d.record_id, d.reviewer, d.decision, d.reason) for d in s.decisions("full-text")]
        assert got == [(r1, "A", "include", ""), (r1, "B", "exclude", "no data"), (r2, "A", "include", "")]
        assert s.decisions("title-abstract") == []
