"""Records store: peak memory and time of ``records import`` and ``records export``.

Synthesises PubmedArticleSet files of 5,000 and 50,000 records from the real
recorded articles in tests/fixtures/ncbi as bench_parse.py does, with PMIDs,
DOIs and titles made unique (so none is a duplicate: every record is stored
and exported; marked synthetic), and in separate processes (so peak memory
is each run's own) imports each into a fresh store and exports it again:

- ``import``: metail2's import, the parser streamed into the store in batches;
- ``import, list first``: what import did before, every parsed record held in
  a list, then stored;
- ``export jsonl`` / ``export csv``: ``metail2 records export -o``, only the
  exported columns read, streamed into the file;
- ``export, all in memory``: what export did before, every column (the raw
  XML included) read into memory, the text built, then written.

Flat memory means the 50,000-record peak is about the 5,000-record one.
Prints records/s and peak RSS.

Run: ``python benchmarks/bench_store.py`` (``--sizes 2000 20000`` for a quick run).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_parse import HEAD, NCBI  # noqa: E402  (the same recorded articles)

ROOT = Path(__file__).parents[1]


def make(path: Path, n: int) -> None:
    """``n`` records: the recorded articles in turn, each with its own PMID, DOIs and title."""
    arts = []
    for f in ("pubmed1.xml", "pubmed2.xml", "pubmed5.xml", "pubmed6.xml"):
        arts += re.findall(r"<PubmedArticle>.*?</PubmedArticle>", (NCBI / f).read_text(encoding="utf-8"), re.S)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        for i in range(n):
            a = re.sub(r'(<MedlineCitation[^>]*>\s*<PMID Version="\d">)\d+', rf"\g<1>{50_000_000 + i}", arts[i % len(arts)],
                       count=1)
            a = re.sub(r'((?:IdType|EIdType)="doi"[^>]*>)10\.', rf"\g<1>10.{i}.", a)
            out.write(a.replace("<ArticleTitle>", f"<ArticleTitle>Synthetic {i}: ", 1) + "\n")
        out.write("</PubmedArticleSet>\n")

RUN = r"""
import json, resource, sys, time
how, db, path = sys.argv[1:4]
t = time.perf_counter()
if how == "import":
    from metail2.review import import_file, open_store
    with open_store(db, create=True) as s:
        n = import_file(s, path).total
elif how == "import, list first":
    from metail2.review import open_store
    from metail2.review.pubmed_xml import iter_pubmed_xml
    with open_store(db, create=True) as s:
        items = list(iter_pubmed_xml(path))
        sid = s.start_search("file", path, "pubmed-xml", {}, None)
        n = len(s.add_records(sid, items))
elif how.startswith("export "):
    from metail2.cli import main
    assert main(["records", "export", "--db", db, "--format", how.split()[1], "-o", path]) == 0
    n = sum(1 for _ in open(path, encoding="utf-8")) if how.endswith("jsonl") else None
else:  # export, all in memory
    from metail2._io import atomic_write
    from metail2.review import open_store
    from metail2.review.store import EXPORT_FIELDS
    with open_store(db, readonly=True) as s:
        rows = [{k: r[k] for k in EXPORT_FIELDS} for r in s.records(raw=True)]
    atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
    n = len(rows)
dt = time.perf_counter() - t
print(n if n is not None else -1, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(how: str, db: Path, path: Path, n: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", RUN, how, str(db), str(path)], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    count, dt, rss = out.stdout.split()
    if int(count) not in (n, -1):
        raise RuntimeError(f"{how}: {count} records, expected {n}")
    return float(dt), int(rss) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000])
    sizes = ap.parse_args().sizes
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            src = Path(tmp) / f"set{n}.xml"
            make(src, n)
            for how in ("import", "import, list first"):
                db = Path(tmp) / f"{how.split(',')[0]}{n}{'-list' if ',' in how else ''}.sqlite"
                rows.append((n, how, *run(how, db, src, n)))
            db = Path(tmp) / f"import{n}.sqlite"
            for how, ext in (("export jsonl", "jsonl"), ("export csv", "csv"), ("export, all in memory", "jsonl")):
                rows.append((n, how, *run(how, db, Path(tmp) / f"out{n}-{how.split()[-1]}.{ext}", n)))
            src.unlink()
    print(f"{'records':>8}  {'step':<22} {'records/s':>10} {'peak RSS MB':>12}")
    for n, how, dt, rss in rows:
        print(f"{n:>8}  {how:<22} {n / dt:>10.0f} {rss:>12.0f}")
    peak = {(n, how): rss for n, how, _, rss in rows}
    lo, hi = min(sizes), max(sizes)
    for how in ("import", "export jsonl", "export csv"):
        print(f"{how}: peak RSS at {hi:,} records / at {lo:,}: {peak[(hi, how)] / peak[(lo, how)]:.2f}")


if __name__ == "__main__":
    main()
