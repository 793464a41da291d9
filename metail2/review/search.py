"""A PubMed search run: ESearch with the history server, EFetch in batches
into the records store, resumable.

PubMed lists only the first 10,000 IDs of a search (the client's
``max_ids``), so a larger search is split by publication-date ranges until
each part fits (:func:`split_by_date`), and the parts' counts must add up to
the whole count. Every batch is stored in one transaction with a mark; a
re-run of the same search skips the batches already stored, so an
interrupted fetch resumes with nothing duplicated and nothing lost.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from ..errors import InputError
from .eutils import FIRST_DATE, EutilsClient, EutilsError, SearchResult, WebEnvExpired
from .records import Record
from .store import SearchPart, Store


def _fmt(d: dt.date) -> str:
    return d.strftime("%Y/%m/%d")


_DATE = re.compile(r"(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?")


def _parse_date(s: str | None, default: dt.date, what: str = "date") -> dt.date:
    if not s:
        return default
    m = _DATE.fullmatch(s.strip())
    try:
        if m is None:
            raise ValueError
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        raise InputError(f"{what} {s!r} is not a date (YYYY, YYYY/MM or YYYY/MM/DD)") from None


def check_search_options(batch_size: int, mindate: str | None, maxdate: str | None) -> None:
    """Raise :class:`~metail2.errors.InputError` for options a search cannot
    run with (before anything is stored or sent)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"--batch-size must be 1 or more (is {batch_size})")
    lo = _parse_date(mindate, FIRST_DATE, "--mindate")
    hi = _parse_date(maxdate, dt.date.today(), "--maxdate")
    if lo > hi:
        raise InputError(f"--mindate {mindate} is after --maxdate {maxdate or 'today'}")


def split_by_date(client: EutilsClient, term: str, lo: dt.date, hi: dt.date, count: int | None = None,
                  log: Callable[[str], None] = lambda m: None) -> list[tuple[dt.date, dt.date, int]]:
    """Split [lo, hi] (publication dates) in halves until each part has at
    most ``client.max_ids`` records; returns (mindate, maxdate, count) parts
    in date order, empty ranges left out."""
    if count is None:
        count = client.esearch(term, mindate=_fmt(lo), maxdate=_fmt(hi)).count
    if count <= client.max_ids:
        return [(lo, hi, count)] if count else []
    if lo >= hi:
        raise EutilsError(f"{count} records share the publication date {_fmt(lo)}: more than PubMed returns "
                          "for one search; narrow the query")
    mid = lo + (hi - lo) // 2
    log(f"{count} records from {_fmt(lo)} to {_fmt(hi)}: splitting at {_fmt(mid)}")
    return (split_by_date(client, term, lo, mid, None, log)
            + split_by_date(client, term, mid + dt.timedelta(days=1), hi, None, log))


@dataclass(frozen=True)
class SearchRun:
    """What a search run did."""

    search_id: int
    count: int
    parts: int
    batches_fetched: int
    batches_skipped: int
    records_new: int
    records_duplicate: int
    records_missing: tuple[str, ...]
    resumed: bool


def _start(store: Store, client: EutilsClient, term: str, params: dict, mindate: str | None,
           maxdate: str | None, log: Callable[[str], None]) -> tuple[int, int]:
    """Count the search, split it if it is too large, log it; (search id, count)."""
    lo = _parse_date(mindate, FIRST_DATE)
    hi = _parse_date(maxdate, dt.date.today())
    total = client.esearch(term, mindate=_fmt(lo) if mindate else None, maxdate=_fmt(hi) if maxdate else None).count
    if total <= client.max_ids:
        parts = [(mindate and lo, maxdate and hi, total)]
    else:
        parts = split_by_date(client, term, lo, hi, total, log)
        found = sum(c for *_, c in parts)
        if found != total:
            raise EutilsError(f"the date-split parts hold {found} records but the search counts {total}; "
                              "PubMed changed during the split or has records without a publication date")
        log(f"{total} records: split into {len(parts)} date ranges of at most {client.max_ids}")
    search_id = store.start_search("pubmed", term, "pubmed", params, total,
                                   [(_fmt(a) if a else None, _fmt(b) if b else None, c) for a, b, c in parts])
    return search_id, total


def _list_ids(client: EutilsClient, term: str, part: SearchPart) -> SearchResult:
    return client.esearch(term, mindate=part.mindate, maxdate=part.maxdate,
                          retmax=min(part.count, client.max_ids), usehistory=True)


def _fetch_batch(client: EutilsClient, term: str, part: SearchPart, ids: list[str], history: SearchResult | None,
                 start: int, batch_size: int, log: Callable[[str], None]) -> tuple[list, SearchResult | None]:
    """One batch's records, from the history server while it serves this
    part's IDs in order, else by ID; (records, the history to use next)."""
    want = ids[start:start + batch_size]
    records = None
    if history is not None and history.webenv:
        try:
            records = client.efetch(webenv=history.webenv, query_key=history.query_key, retstart=start,
                                    retmax=batch_size)
        except WebEnvExpired:
            log("the WebEnv expired: running the search step again")
            history = _list_ids(client, term, part)
            if list(history.ids) != ids:
                history = None  # results changed: fetch this part by ID from here on
            else:
                records = client.efetch(webenv=history.webenv, query_key=history.query_key,
                                        retstart=start, retmax=batch_size)
        if records is not None and {r.pmid for r in records if isinstance(r, Record)} - set(want):
            records = None  # the history server's order moved: fetch by ID instead
    if records is None:
        records = client.efetch(ids=want)
    return records, history


def run_search(store: Store, client: EutilsClient, term: str, *, batch_size: int = 200, mindate: str | None = None,
               maxdate: str | None = None, log: Callable[[str], None] = lambda m: None) -> SearchRun:
    """Search PubMed and fetch every record into ``store``, resuming an
    unfinished run of the same search (same query and options)."""
    check_search_options(batch_size, mindate, maxdate)
    params = {"mindate": mindate, "maxdate": maxdate, "batch_size": batch_size}
    prior = store.unfinished_search(term, params)
    if prior is None:
        search_id, count = _start(store, client, term, params, mindate, maxdate, log)
    else:
        search_id, count = prior.id, prior.count
        log(f"resuming search {search_id} ({count} records)")
    fetched = skipped = new = dup = 0
    missing: list[str] = []
    parts = store.search_parts(search_id)
    for part in parts:
        ids = store.part_pmids(search_id, part.part)
        history = None
        if not ids:
            history = _list_ids(client, term, part)
            ids = list(history.ids)
            if len(ids) != part.count or len(set(ids)) != len(ids):
                raise EutilsError(f"ESearch listed {len(ids)} IDs for a part counted {part.count}")
            store.save_part_pmids(search_id, part.part, ids)
        done = store.fetched_batches(search_id, part.part)
        for start in range(0, len(ids), batch_size):
            if start in done:
                skipped += 1
                continue
            want = ids[start:start + batch_size]
            records, history = _fetch_batch(client, term, part, ids, history, start, batch_size, log)
            got = {r.pmid for r in records if isinstance(r, Record)}
            missing += [p for p in want if p not in got]
            results = store.add_records(search_id, [r for r in records if not isinstance(r, Record) or r.pmid in want],
                                        batch=(part.part, start, len(want)))
            new += sum(r.status == "new" for r in results)
            dup += sum(r.status != "new" for r in results)
            fetched += 1
            log(f"batch {start // batch_size + 1} of part {part.part + 1}: {len(got)} records")
    msg = f"{len(missing)} PMIDs listed by ESearch were not returned by EFetch" if missing else None
    store.finish_search(search_id, "complete", msg)
    linked = store.search_record_count(search_id)
    if linked + len(missing) != count:
        raise EutilsError(f"search {search_id}: {linked} records stored + {len(missing)} missing != count {count}")
    return SearchRun(search_id, count, len(parts), fetched, skipped, new, dup, tuple(missing), resumed=prior is not None)
