"""PubMed XML parsing: throughput and peak memory, metail2 vs Bio.Entrez.read.

Synthesises PubmedArticleSet files of 5,000 and 50,000 records from the real
recorded articles in tests/fixtures/ncbi (PMIDs renumbered; marked synthetic)
and, in separate processes so peak memory is each run's own, parses them with
metail2's streaming parser and with Biopython's ``Bio.Entrez.read`` (which
loads the whole file). Prints records/s and peak RSS.

Run: `make bench` or `python benchmarks/bench_parse.py`.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
NCBI = ROOT / "tests" / "fixtures" / "ncbi"
HEAD = ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January '
        '2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
        "<!-- SYNTHETIC benchmark file: real recorded articles with renumbered PMIDs -->\n")

RUN = r"""
import resource, sys, time
path, how = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if how == "metail2":
    from metail2.review.pubmed_xml import iter_pubmed_xml
    n = sum(1 for _ in iter_pubmed_xml(path))
else:
    from Bio import Entrez
    with open(path, "rb") as f:
        n = len(Entrez.read(f)["PubmedArticle"])
dt = time.perf_counter() - t
print(n, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make(path: Path, n: int) -> None:
    arts = []
    for f in ("pubmed1.xml", "pubmed2.xml", "pubmed5.xml", "pubmed6.xml"):
        arts += re.findall(r"<PubmedArticle>.*?</PubmedArticle>", (NCBI / f).read_text(encoding="utf-8"), re.S)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        for i in range(n):
            a = arts[i % len(arts)]
            pmid = str(50_000_000 + i)
            out.write(re.sub(r'(<MedlineCitation[^>]*>\s*<PMID Version="\d">)\d+', r"\g<1>" + pmid, a, count=1))
            out.write("\n")
        out.write("</PubmedArticleSet>\n")


def run(path: Path, how: str) -> tuple[int, float, float]:
    out = subprocess.run([sys.executable, "-c", RUN, str(path), how], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    n, dt, rss = out.stdout.split()
    return int(n), float(dt), int(rss) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in (5_000, 50_000):
            p = Path(tmp) / f"set{n}.xml"
            make(p, n)
            size = p.stat().st_size / 1e6
            for how in ("metail2", "Bio.Entrez.read"):
                count, dt, rss = run(p, how)
                rows.append((n, size, how, count, count / dt, rss))
        print(f"{'records':>8} {'file MB':>8}  {'parser':<16} {'records/s':>10} {'peak RSS MB':>12}")
        for n, size, how, count, rate, rss in rows:
            print(f"{n:>8} {size:>8.0f}  {how:<16} {rate:>10.0f} {rss:>12.0f}")
        m = {(n, how): rate for n, _, how, _, rate, _ in rows}
        print(f"speed-up on 50,000 records: {m[(50_000, 'metail2')] / m[(50_000, 'Bio.Entrez.read')]:.1f}x")


if __name__ == "__main__":
    main()
