"""A client for NCBI E-utilities: rate limit, retries, and reading the replies.

A small client on ``requests``: a configurable base URL (NCBI's by default,
``--eutils-url`` or ``METAIL2_EUTILS_URL`` otherwise), ``tool=metail2`` and the
email on every request, a rate limiter shared by every call in the process
(3 requests/s, 10 with an API key), and one retry loop for every fault:
HTTP 429 (honouring ``Retry-After``), 5xx, connection resets, bodies cut off
mid-read, HTTP-200 bodies carrying ``<ERROR>``, bodies that are not XML and
hostile or garbled bodies (a DTD internal subset, ``<Count>abc</Count>``),
with exponential backoff, jitter and a cap on tries. An expired WebEnv is
raised as :class:`WebEnvExpired` for the caller to search again.
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

from urllib.parse import urlparse

from ..errors import InputError, NetworkError
from .pubmed_xml import NotXMLError, iter_pubmed_xml
from .records import ParseIssue
from .xml_prolog import scan_prolog, sniff_xml

NCBI_EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
MAX_IDS = 9999  # ESearch returns at most 10,000 IDs of a PubMed search
FIRST_DATE = dt.date(1781, 1, 1)  # before the oldest PubMed record


class EutilsError(NetworkError, RuntimeError):
    """NCBI could not be reached or kept failing after every try (exit code 4)."""


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


class _Retry(Exception):
    """Internal: the body says the request should be tried again."""


@dataclass(frozen=True)
class SearchResult:
    """An ESearch reply: the count, the IDs listed and the history-server keys."""

    count: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None


@dataclass
class EutilsClient:
    """E-utilities over HTTP. ``backoff`` is the first retry's wait in seconds
    (doubled each try, ±50% jitter, at most ``max_backoff``); ``max_tries``
    caps the tries of one request; ``max_ids`` is the most IDs the server
    lists for one search (NCBI: the first 10,000, of which 9,999 are used)."""

    base_url: str | None = None
    email: str | None = None
    api_key: str | None = None
    tool: str = "metail2"
    max_tries: int = 6
    backoff: float = 1.0
    max_backoff: float = 60.0
    timeout: float = 120.0
    max_ids: int = MAX_IDS
    log: Callable[[str], None] = lambda msg: None

    def __post_init__(self):
        import requests

        given = "--eutils-url" if self.base_url else "METAIL2_EUTILS_URL"
        self.base_url = self.base_url or os.environ.get("METAIL2_EUTILS_URL") or NCBI_EUTILS
        url = urlparse(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InputError(f"{given} {self.base_url!r} is not an http:// or https:// URL "
                             f"(NCBI's is {NCBI_EUTILS})")
        if self.max_tries < 1 or self.backoff < 0 or self.max_backoff < 0 or self.timeout <= 0:
            raise InputError("tries must be at least 1, waits 0 or more, the timeout more than 0")
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
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema) as exc:
                raise InputError(f"{url}: not a URL metail2 can fetch: {exc}") from None
            except requests.RequestException as exc:
                text = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
                    last = "body cut off mid-read"
                elif isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                    last = f"connection failed: {type(exc).__name__}"
                else:
                    last = f"{type(exc).__name__}"
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
                usehistory: bool = False) -> SearchResult:
        params = {"db": "pubmed", "term": term, "retmax": retmax, "retmode": "xml",
                  "usehistory": "y" if usehistory else None}
        if mindate or maxdate:
            params.update(datetype="pdat", mindate=mindate or FIRST_DATE.strftime("%Y/%m/%d"),
                          maxdate=maxdate or dt.date.today().strftime("%Y/%m/%d"))
        return self.request("esearch.fcgi", params, check=parse_esearch)

    def efetch(self, *, webenv: str | None = None, query_key: str | None = None, retstart: int = 0,
               retmax: int = 200, ids: list[str] | None = None) -> list:
        """PubMed XML records (:class:`Record` and :class:`Deletion` values),
        from the history server or by ID."""
        params = {"db": "pubmed", "retmode": "xml", "rettype": "xml"}
        if ids is not None:
            params["id"] = ",".join(ids)
        else:
            params.update(WebEnv=webenv, query_key=query_key, retstart=retstart, retmax=retmax)
        return self.request("efetch.fcgi", params, check=parse_efetch)


# --------------------------------------------------------------------------- replies

def _error_text(root) -> str | None:
    errs = [" ".join("".join(e.itertext()).split()) for e in root.iter("ERROR")]
    return "; ".join(e for e in errs if e) or None


def _is_expired(msg: str) -> bool:
    m = msg.lower()
    return ("webenv" in m or "query_key" in m or "history" in m or "query #" in m) and \
        any(w in m for w in ("expired", "cannot", "unable", "not found", "invalid"))


def parse_esearch(body: bytes) -> SearchResult:
    """An ESearch reply; a reply without a whole-number ``<Count>``, with an
    ID that is not a PMID, with a DTD internal subset (entities) or not
    well-formed asks for a retry."""
    from xml.etree.ElementTree import ParseError

    from defusedxml.ElementTree import fromstring  # refuses entities, as a second line of defence

    try:
        text = body.decode("utf-8")
        root = fromstring(text[scan_prolog(text, "ESearch reply", True)[0]:])
    except (ParseError, ValueError) as exc:  # UnicodeDecodeError, DTDRefused, NotXMLError, defusedxml's
        raise _Retry(f"malformed ESearch reply: {exc}") from None
    count = (root.findtext("Count") or "").strip()
    err = _error_text(root)
    if not count:
        raise _Retry(f"ESearch error: {err or 'no Count in the reply'}")
    if not count.isascii() or not count.isdigit():
        raise _Retry(f"malformed ESearch reply: <Count>{count[:40]}</Count> is not a whole number")
    ids = tuple((i.text or "").strip() for i in root.findall("IdList/Id"))
    bad = next((i for i in ids if not (i.isascii() and i.isdigit())), None)
    if bad is not None:
        raise _Retry(f"malformed ESearch reply: <Id>{bad[:40]}</Id> is not a PMID")
    return SearchResult(int(count), ids, root.findtext("WebEnv"), root.findtext("QueryKey"))


def parse_efetch(body: bytes) -> list:
    """An EFetch reply's records; an expired WebEnv raises :class:`WebEnvExpired`,
    an ``<ERROR>`` or a cut-off reply asks for a retry."""
    from .pubmed_xml import NCBIErrorReply

    issues: list[ParseIssue] = []
    try:
        items = list(iter_pubmed_xml(body, issues))
    except NCBIErrorReply as exc:  # <ERROR> in a 200 body
        msg = str(exc)
        if _is_expired(msg):
            raise WebEnvExpired(msg) from None
        raise _Retry(msg) from None
    except InputError as exc:  # a DTD internal subset, not a PubmedArticleSet, ...
        raise _Retry(f"EFetch reply refused: {exc}") from None
    if any("malformed or truncated" in i.message for i in issues):
        raise _Retry("EFetch reply cut off or malformed")
    refused = [i for i in issues if "no PMID" not in i.message]
    if refused:
        raise _Retry(f"EFetch reply refused: {refused[0]}")
    return items

