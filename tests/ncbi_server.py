"""A real HTTP server on 127.0.0.1 that plays NCBI E-utilities for the tests.

It serves ESearch and EFetch from a corpus of PubMed records: the recorded
articles of tests/fixtures/ncbi (real NCBI responses), and, for searches
larger than the recordings, synthetic articles built here and marked
``<!-- SYNTHETIC record made by metail2's test server -->``. Faults are
injected on demand, one per request, in the order queued: 429 with
Retry-After, 500, a connection dropped mid-body, ``<ERROR>`` in a 200 body,
an HTML page instead of XML, an expired WebEnv, a delay, a hostile body
declaring entities (``entities``: billion laughs behind a comment holding
``<x``), an ESearch reply whose count is not a number (``badcount``); ``skip`` lets that
many matching requests pass first. Like NCBI, ESearch lists at most
``id_limit`` IDs of a search (10,000 by default).
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

FIXTURES = Path(__file__).parent / "fixtures" / "ncbi"
HEAD = ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January '
        '2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n')


def recorded_articles() -> dict[str, tuple[dt.date, str]]:
    """PMID -> (publication date, the recorded <PubmedArticle> text)."""
    out = {}
    for f in sorted(FIXTURES.glob("pubmed*.xml")):
        text = f.read_text(encoding="utf-8")
        for art in re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S):
            pmid = re.search(r"<PMID[^>]*>(\d+)</PMID>", art).group(1)
            year = int(re.search(r"<PubDate>.*?<Year>(\d{4})</Year>", art, flags=re.S).group(1))
            out[pmid] = (dt.date(year, 1, 1), art)
    return out


def synthetic_article(pmid: str, date: dt.date, doi: str | None = None) -> str:
    doi_xml = f'<ELocationID EIdType="doi" ValidYN="Y">{doi}</ELocationID>' if doi else ""
    return (f"<PubmedArticle><!-- SYNTHETIC record made by metail2's test server -->"
            f'<MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
            f'<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Print"><Volume>1</Volume>'
            f"<PubDate><Year>{date.year}</Year><Month>{date.month:02d}</Month><Day>{date.day:02d}</Day></PubDate>"
            f"</JournalIssue><Title>Synthetic Journal</Title></Journal>"
            f"<ArticleTitle>Synthetic record {pmid}</ArticleTitle>{doi_xml}"
            f'<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Tester</LastName><Initials>A</Initials>'
            f"</Author></AuthorList><Language>eng</Language><PublicationTypeList>"
            f'<PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList></Article>'
            f'</MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>'
            f"</ArticleIdList></PubmedData></PubmedArticle>")


#: Billion laughs, its DOCTYPE behind a comment holding "<x" (which once passed for the root element).
HOSTILE = (b'<?xml version="1.0"?>\n<!-- <x marks the spot -->\n<!DOCTYPE PubmedArticleSet [\n'
           b'<!ENTITY a "aaaaaaaaaa">' + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">'
                                                   % ((98 + i,) + (97 + i,) * 10) for i in range(8))
           + b"]>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&i;"
             b"</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n")


@dataclass
class Fault:
    endpoint: str  # "esearch.fcgi", "efetch.fcgi" or "*"
    kind: str  # 429, 500, drop, error200, html, expire, delay, entities, badcount
    arg: float = 0.0  # Retry-After or delay seconds
    skip: int = 0  # matching requests to let pass before this fault


class FakeNCBI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, id_limit: int = 10000):
        super().__init__(("127.0.0.1", 0), Handler)
        self.corpora: dict[str, list[tuple[str, dt.date, str]]] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[float, str, dict]] = []
        self.webenvs: dict[str, list[str]] = {}
        self.searches_with_history = 0  # names each WebEnv, never reused (as NCBI's)
        self.delay = 0.0
        self.id_limit = id_limit
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/entrez/eutils/"

    def add_corpus(self, term: str, records: list[tuple[str, dt.date, str]]) -> None:
        self.corpora[term] = sorted(records, key=lambda r: (r[1], r[0]), reverse=True)

    def fault(self, endpoint: str, kind: str, arg: float = 0.0, *, skip: int = 0) -> None:
        """Queue a fault for the next request to ``endpoint`` (after ``skip`` that pass)."""
        self.faults.append(Fault(endpoint, kind, arg, skip))

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.handle_request(parse_qs(urlparse(self.path).query))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.handle_request(parse_qs(self.rfile.read(n).decode()))

    def send(self, status: int, body: bytes, headers: dict | None = None, drop: bool = False):
        self.send_response(status)
        self.send_header("Content-Type", "text/xml; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if drop:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def handle_request(self, q):
        srv: FakeNCBI = self.server
        params = {k: v[0] for k, v in q.items()}
        endpoint = urlparse(self.path).path.rsplit("/", 1)[-1]
        with srv.lock:
            srv.requests.append((time.monotonic(), endpoint, params))
            fault = next((f for f in srv.faults if f.endpoint in (endpoint, "*")), None)
            if fault and fault.skip:
                fault.skip -= 1
                fault = None
            elif fault:
                srv.faults.remove(fault)
        if srv.delay:
            time.sleep(srv.delay)
        if params.get("tool") != "metail2":
            return self.send(400, b"<ERROR>tool parameter missing</ERROR>")
        if fault:
            kind, arg = fault.kind, fault.arg
            if kind == "429":
                return self.send(429, b"<ERROR>API rate limit exceeded</ERROR>", {"Retry-After": str(int(arg))})
            if kind == "500":
                return self.send(500, b"<html>Internal Server Error</html>")
            if kind == "html":
                return self.send(200, (FIXTURES / "pubmed3.html").read_bytes())
            if kind == "error200":
                return self.send(200, b'<?xml version="1.0"?>\n<eFetchResult><ERROR>Search Backend failed: '
                                      b"temporary</ERROR></eFetchResult>")
            if kind == "entities":
                return self.send(200, HOSTILE)
            if kind == "badcount":
                return self.send(200, b'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>abc</Count>'
                                      b"<RetMax>0</RetMax><RetStart>0</RetStart><IdList/></eSearchResult>")
            if kind == "expire":
                srv.webenvs.clear()
            if kind == "delay":
                time.sleep(arg)
            if kind == "drop":
                body = self.body(endpoint, params)
                return self.send(200, body, drop=True)
        return self.send(200, self.body(endpoint, params))

    def body(self, endpoint, params) -> bytes:
        srv: FakeNCBI = self.server
        if endpoint == "esearch.fcgi":
            recs = srv.corpora.get(params.get("term", ""), [])
            if "mindate" in params:
                lo = dt.date(*map(int, params["mindate"].split("/")))
                hi = dt.date(*map(int, params["maxdate"].split("/")))
                recs = [r for r in recs if lo <= r[1] <= hi]
            ids = [r[0] for r in recs]
            retmax = int(params.get("retmax", 20))
            retstart = int(params.get("retstart", 0))
            shown = ids[retstart:retstart + retmax][: max(0, srv.id_limit - retstart)]
            hist = ""
            if params.get("usehistory") == "y":
                srv.searches_with_history += 1
                key = f"MCID_{srv.searches_with_history:04d}"
                srv.webenvs[key] = ids
                hist = f"<QueryKey>1</QueryKey><WebEnv>{key}</WebEnv>"
            xml = (f'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
                   f'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
                   f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{len(shown)}</RetMax>"
                   f"<RetStart>{retstart}</RetStart>{hist}<IdList>"
                   + "".join(f"<Id>{i}</Id>" for i in shown) + "</IdList><TranslationSet/></eSearchResult>")
            return xml.encode()
        if endpoint == "efetch.fcgi":
            by_id = {r[0]: r[2] for recs in srv.corpora.values() for r in recs}
            if "id" in params:
                ids = params["id"].split(",")
            else:
                env = srv.webenvs.get(params.get("WebEnv", ""))
                if env is None:
                    return (b'<?xml version="1.0" encoding="UTF-8" ?>\n<eFetchResult><ERROR>Unable to obtain '
                            b"query #1</ERROR></eFetchResult>")
                start = int(params.get("retstart", 0))
                ids = env[start:start + int(params.get("retmax", 20))]
            return (HEAD + "\n".join(by_id[i] for i in ids if i in by_id) + "\n</PubmedArticleSet>\n").encode()
        return b"<ERROR>unknown endpoint</ERROR>"
