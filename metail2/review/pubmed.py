"""PubMed search and fetch over NCBI E-utilities, resumable and fault-tolerant.

A small client on ``requests``: a configurable base URL (NCBI's by default,
``--eutils-url`` or ``METAIL2_EUTILS_URL`` otherwise), ``tool=metail2`` and the
email on every request, a rate limiter shared by every call in the process
(3 requests/s, 10 with an API key), and one retry loop for every fault:
HTTP 429 (honouring ``Retry-After``), 5xx, connection resets, bodies cut off
mid-read, HTTP-200 bodies carrying ``<ERROR>`` and bodies that are not XML,
with exponential backoff, jitter and a cap on tries. An expired WebEnv
re-runs the search step.

``run_search`` runs ESearch with the history server and EFetch in batches
into the records store. PubMed returns only the first 10,000 IDs of a
search, so a larger search is split by publication-date ranges until each
part fits, and the parts' counts must add up to the whole count. Every batch
is stored in one transaction with a mark; a re-run of the same search skips
the batches already stored, so an interrupted fetch resumes with nothing
duplicated and nothing lost.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

from .records import NotXMLError, ParseIssue, Record, iter_pubmed_xml, sniff_xml

NCBI_EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
MAX_IDS = 9999  # ESearch returns at most 10,000 IDs of a PubMed search
FIRST_DATE = dt.date(1781, 1, 1)  # before the oldest PubMed record


class EutilsError(RuntimeError):
    """NCBI could not be reached or kept failing after every try."""


class WebEnvExpired(EutilsError):
    """The history server no longer knows the WebEnv/query_key."""


class RateLimiter:
    """At most ``rate`` requests per second across all threads of the process
    (requests are spaced by at least 1/rate seconds)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self, rate: float, sleep: Callable[[float], None] = time.sleep) -> None:
        with self._lock:
            t = time.monotonic()
            start = max(t, self._next)
            self._next = start + 1.0 / rate
        if start > t:
            sleep(start - t)


LIMITER = RateLimiter()  # shared by every client in the process


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


@dataclass
class EutilsClient:
    """E-utilities over HTTP. ``backoff`` is the first retry's wait in seconds
    (doubled each try, ±50% jitter, at most ``max_backoff``); ``max_tries``
    caps the tries of one request."""

    base_url: str | None = None
    email: str | None = None
    api_key: str | None = None
    tool: str = "metail2"
    max_tries: int = 6
    backoff: float = 1.0
    max_backoff: float = 60.0
    timeout: float = 120.0
    log: Callable[[str], None] = lambda msg: None

    def __post_init__(self):
        import requests

        self.base_url = self.base_url or os.environ.get("METAIL2_EUTILS_URL") or NCBI_EUTILS
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self.api_key = self.api_key or os.environ.get("NCBI_API_KEY") or None
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"metail2 (+{self.email or 'no email given'})"

    @property
    def rate(self) -> float:
        return 10.0 if self.api_key else 3.0

    def _params(self, params: dict) -> dict:
        p = {k: v for k, v in params.items() if v is not None}
        p["tool"] = self.tool
        if self.email:
            p["email"] = self.email
        if self.api_key:
            p["api_key"] = self.api_key
        return p

    def request(self, endpoint: str, params: dict, check: Callable[[bytes], object] | None = None):
        """GET (or POST for long ID lists) ``endpoint`` with retries; returns
        ``check(body)`` (which may raise to ask for a retry) or the body."""
        import requests

        url = self.base_url + endpoint
        data = self._params(params)
        post = len(str(data.get("id", ""))) > 1000
        last = "no response"
        for attempt in range(1, self.max_tries + 1):
            LIMITER.wait(self.rate)
            wait = None
            try:
                if post:
                    resp = self.session.post(url, data=data, timeout=self.timeout)
                else:
                    resp = self.session.get(url, params=data, timeout=self.timeout)
                body = resp.content
                if resp.status_code == 429:
                    last = "HTTP 429 Too Many Requests"
                    wait = _retry_after(resp.headers.get("Retry-After"))
                elif resp.status_code >= 500:
                    last = f"HTTP {resp.status_code}"
                elif resp.status_code >= 400:
                    raise EutilsError(f"{url}: HTTP {resp.status_code}: {body[:200]!r}")
                else:
                    expected = resp.headers.get("Content-Length")
                    if expected is not None and expected.isdigit() and int(expected) != len(body):
                        last = f"body cut off ({len(body)} of {expected} bytes)"
                    else:
                        sniff_xml(body[:512], endpoint)
                        return check(body) if check else body
            except WebEnvExpired:
                raise
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                text = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
                    last = "body cut off mid-read"
                else:
                    last = f"connection failed: {type(exc).__name__}"
            except NotXMLError:
                last = "reply is not XML (an HTML page?)"
            except _Retry as exc:
                last = str(exc)
            if attempt == self.max_tries:
                break
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random())
            if wait is not None:
                delay = max(delay, wait)
            self.log(f"{endpoint}: {last}; try {attempt + 1} of {self.max_tries} in {delay:.1f} s")
            time.sleep(delay)
        raise EutilsError(f"{endpoint}: gave up after {self.max_tries} tries: {last}")

    # ----------------------------------------------------------------- ESearch / EFetch

    def esearch(self, term: str, *, mindate: str | None = None, maxdate: str | None = None, retmax: int = 0,
                usehistory: bool = False) -> "SearchResult":
        params = {"db": "pubmed", "term": term, "retmax": retmax, "retmode": "xml",
                  "usehistory": "y" if usehistory else None}
        if mindate or maxdate:
            params.update(datetype="pdat", mindate=mindate or FIRST_DATE.strftime("%Y/%m/%d"),
                          maxdate=maxdate or dt.date.today().strftime("%Y/%m/%d"))
        return self.request("esearch.fcgi", params, check=_parse_esearch)

    def efetch(self, *, webenv: str | None = None, query_key: str | None = None, retstart: int = 0,
               retmax: int = 200, ids: list[str] | None = None) -> list[Record]:
        params = {"db": "pubmed", "retmode": "xml", "rettype": "xml"}
        if ids is not None:
            params["id"] = ",".join(ids)
        else:
            params.update(WebEnv=webenv, query_key=query_key, retstart=retstart, retmax=retmax)
        return self.request("efetch.fcgi", params, check=_parse_efetch)


class _Retry(Exception):
    """Internal: the body says the request should be tried again."""


@dataclass(frozen=True)
class SearchResult:
    count: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None


def _error_text(root) -> str | None:
    errs = [" ".join("".join(e.itertext()).split()) for e in root.iter("ERROR")]
    return "; ".join(e for e in errs if e) or None


def _is_expired(msg: str) -> bool:
    m = msg.lower()
    return ("webenv" in m or "query_key" in m or "history" in m or "query #" in m) and \
        any(w in m for w in ("expired", "cannot", "unable", "not found", "invalid"))


def _parse_esearch(body: bytes) -> SearchResult:
    from defusedxml.ElementTree import fromstring
    from xml.etree.ElementTree import ParseError

    try:
        root = fromstring(body, forbid_dtd=False)
    except ParseError as exc:
        raise _Retry(f"malformed ESearch reply: {exc}") from None
    count = root.findtext("Count")
    err = _error_text(root)
    if count is None:
        raise _Retry(f"ESearch error: {err or 'no Count in the reply'}")
    return SearchResult(int(count), tuple(i.text.strip() for i in root.findall("IdList/Id") if i.text),
                        root.findtext("WebEnv"), root.findtext("QueryKey"))


def _parse_efetch(body: bytes) -> list:
    issues: list[ParseIssue] = []
    try:
        items = list(iter_pubmed_xml(body, issues))
    except RuntimeError as exc:  # <ERROR> in a 200 body
        msg = str(exc)
        if _is_expired(msg):
            raise WebEnvExpired(msg) from None
        raise _Retry(msg) from None
    if any("malformed or truncated" in i.message for i in issues):
        raise _Retry("EFetch reply cut off or malformed")
    return items


# --------------------------------------------------------------------------- search runs

def _fmt(d: dt.date) -> str:
    return d.strftime("%Y/%m/%d")


def _parse_date(s: str | None, default: dt.date) -> dt.date:
    if not s:
        return default
    parts = [int(p) for p in s.replace("-", "/").split("/")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def split_by_date(client: EutilsClient, term: str, lo: dt.date, hi: dt.date, count: int | None = None,
                  log: Callable[[str], None] = lambda m: None) -> list[tuple[dt.date, dt.date, int]]:
    """Split [lo, hi] (publication dates) until each part has at most 9,999
    records; returns (mindate, maxdate, count) parts in date order."""
    if count is None:
        count = client.esearch(term, mindate=_fmt(lo), maxdate=_fmt(hi)).count
    if count <= MAX_IDS:
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


def run_search(store, client: EutilsClient, term: str, *, batch_size: int = 200, mindate: str | None = None,
               maxdate: str | None = None, log: Callable[[str], None] = lambda m: None) -> SearchRun:
    """Search PubMed and fetch every record into ``store``, resuming an
    unfinished run of the same search (same query and options)."""
    params = {"mindate": mindate, "maxdate": maxdate, "batch_size": batch_size}
    prior = store.unfinished_search(term, params)
    resumed = prior is not None
    if prior is None:
        lo = _parse_date(mindate, FIRST_DATE)
        hi = _parse_date(maxdate, dt.date.today())
        total = client.esearch(term, mindate=_fmt(lo) if mindate else None,
                               maxdate=_fmt(hi) if maxdate else None).count
        if total <= MAX_IDS:
            parts = [(mindate and lo, maxdate and hi, total)]
        else:
            parts = split_by_date(client, term, lo, hi, total, log)
            found = sum(c for *_, c in parts)
            if found != total:
                raise EutilsError(f"the date-split parts hold {found} records but the search counts {total}; "
                                  "PubMed changed during the split or has records without a publication date")
            log(f"{total} records: split into {len(parts)} date ranges of at most {MAX_IDS}")
        search_id = store.start_search("pubmed", term, "pubmed", params, total)
        with store.transaction() as db:
            for i, (a, b, c) in enumerate(parts):
                db.execute("INSERT INTO search_parts VALUES (?, ?, ?, ?, ?)",
                           (search_id, i, _fmt(a) if a else None, _fmt(b) if b else None, c))
        count = total
    else:
        search_id, count = prior["id"], prior["count"]
        log(f"resuming search {search_id} ({count} records)")
    fetched = skipped = new = dup = 0
    missing: list[str] = []
    for part in store.db.execute("SELECT * FROM search_parts WHERE search_id=? ORDER BY part", (search_id,)).fetchall():
        ids = [r[0] for r in store.db.execute(
            "SELECT pmid FROM search_pmids WHERE search_id=? AND part=? ORDER BY position", (search_id, part["part"]))]
        history = None
        if not ids:
            history = client.esearch(term, mindate=part["mindate"], maxdate=part["maxdate"],
                                     retmax=min(part["count"], MAX_IDS), usehistory=True)
            ids = list(history.ids)
            if len(ids) != part["count"] or len(set(ids)) != len(ids):
                raise EutilsError(f"ESearch listed {len(ids)} IDs for a part counted {part['count']}")
            with store.transaction() as db:
                db.executemany("INSERT INTO search_pmids VALUES (?, ?, ?, ?)",
                               [(search_id, part["part"], i, p) for i, p in enumerate(ids)])
        done = {r[0] for r in store.db.execute(
            "SELECT retstart FROM batches WHERE search_id=? AND part=?", (search_id, part["part"]))}
        for start in range(0, len(ids), batch_size):
            if start in done:
                skipped += 1
                continue
            want = ids[start:start + batch_size]
            records = None
            if history is not None and history.webenv:
                try:
                    records = client.efetch(webenv=history.webenv, query_key=history.query_key, retstart=start,
                                            retmax=batch_size)
                except WebEnvExpired:
                    log("the WebEnv expired: running the search step again")
                    history = client.esearch(term, mindate=part["mindate"], maxdate=part["maxdate"],
                                             retmax=min(part["count"], MAX_IDS), usehistory=True)
                    if list(history.ids) != ids:
                        history = None  # results changed: fetch this part by ID from here on
                    else:
                        records = client.efetch(webenv=history.webenv, query_key=history.query_key,
                                                retstart=start, retmax=batch_size)
                if records is not None and {r.pmid for r in records if isinstance(r, Record)} - set(want):
                    records = None  # the history server's order moved: fetch by ID instead
            if records is None:
                records = client.efetch(ids=want)
            got = {r.pmid for r in records if isinstance(r, Record)}
            missing += [p for p in want if p not in got]
            results = store.add_records(search_id, [r for r in records if not isinstance(r, Record) or r.pmid in want],
                                        batch=(part["part"], start, len(want)))
            new += sum(r.status == "new" for r in results)
            dup += sum(r.status != "new" for r in results)
            fetched += 1
            log(f"batch {start // batch_size + 1} of part {part['part'] + 1}: {len(got)} records")
    msg = f"{len(missing)} PMIDs listed by ESearch were not returned by EFetch" if missing else None
    store.finish_search(search_id, "complete", msg)
    linked = store.db.execute("SELECT COUNT(*) FROM search_records WHERE search_id=?", (search_id,)).fetchone()[0]
    if linked + len(missing) != count:
        raise EutilsError(f"search {search_id}: {linked} records stored + {len(missing)} missing != count {count}")
    return SearchRun(search_id, count, len(store.db.execute("SELECT 1 FROM search_parts WHERE search_id=?",
                                                            (search_id,)).fetchall()),
                     fetched, skipped, new, dup, tuple(missing), resumed)
