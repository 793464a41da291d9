"""Command line: ``metail2 pool SHEET --measure M …`` (design.md).

``main(argv)`` runs in-process and prints exactly what the command prints;
it returns the exit code: 0 on success, 2 on bad usage or bad data (one line
per problem on stderr, naming file, line, study and column; no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings

from . import __version__

MEASURES = ("OR", "RR", "RD", "HR", "MD", "SMD", "PR", "PLO", "PFT")
METHODS = ("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "EB", "HE", "MH", "Peto")
LATER = {"MH": "Mantel–Haenszel", "PETO": "Peto"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise _UsageError()


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="metail2", description="Literature meta-analysis: effect sizes, "
                "random-effects pooling and subgroups, validated against R's metafor.")
    p.add_argument("--version", action="version", version=f"metail2 {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    pool = sub.add_parser("pool", help="pool an extraction sheet", description=(
        "Compute effect sizes from an extraction sheet and pool them. Default: REML with a z test."))
    _pool_args(pool)
    pool.add_argument("--json", action="store_true", help="print the result JSON")
    return _more(p, sub)


def _pool_args(pool) -> None:
    pool.add_argument("sheet", metavar="SHEET", help="extraction sheet (CSV)")
    pool.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M",
                      help="effect measure: " + ", ".join(MEASURES))
    pool.add_argument("--method", default="REML", type=lambda s: s.upper(), metavar="METHOD",
                      choices=[m.upper() for m in METHODS],
                      help="FE (common effect) or a tau² estimator: DL, REML (default), ML, PM, HS, SJ, EB, HE")
    pool.add_argument("--test", default="z", choices=("z", "hk"),
                      help="z (default) or hk (Hartung–Knapp–Sidik–Jonkman)")
    pool.add_argument("--by", metavar="COLUMN", help="subgroup column, e.g. route")
    pool.add_argument("--subgroup-tau2", default="separate", choices=("separate", "common"),
                      help="separate tau² per subgroup (default) or one model with the subgroup factor")
    pool.add_argument("--drop00", action="store_true",
                      help="drop double-zero two-arm tables (RevMan) instead of keeping them with the 1/2 correction")


def _more(p, sub):
    plot = sub.add_parser("plot", help="draw a forest plot of a sheet", description=(
        "Pool a sheet as `metail2 pool` does and draw its forest plot (PNG at 300 dpi, SVG or PDF "
        "with editable text)."))
    _pool_args(plot)
    plot.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                      help="output file (.png, .svg or .pdf); repeat for several")
    plot.add_argument("--style", default="revman", choices=("revman", "jama"))
    plot.add_argument("--prediction", action="store_true", help="draw prediction intervals")
    plot.add_argument("--favours-left", default="", metavar="TEXT")
    plot.add_argument("--favours-right", default="", metavar="TEXT")
    plot.add_argument("--decimals", type=int, default=None)
    plot.add_argument("--title", default=None)
    fun = sub.add_parser("funnel", help="draw a funnel plot of a sheet")
    _pool_args(fun)
    fun.add_argument("-o", "--output", action="append", required=True, metavar="FILE")
    fun.add_argument("--contours", action="store_true", help="contour-enhanced (p < 0.01, 0.05, 0.1)")

    se = sub.add_parser("search", help="search PubMed and fetch every record into a records store")
    se.add_argument("query", metavar="QUERY")
    se.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    se.add_argument("--email", help="your email, sent to NCBI as they ask")
    se.add_argument("--api-key", help="NCBI API key (or env NCBI_API_KEY): 10 requests/s instead of 3")
    se.add_argument("--eutils-url", help="E-utilities base ending in /entrez/eutils/ (or env METAIL2_EUTILS_URL)")
    se.add_argument("--batch-size", type=int, default=200, metavar="N")
    se.add_argument("--mindate", help="publication date from (YYYY/MM/DD, YYYY/MM or YYYY)")
    se.add_argument("--maxdate", help="publication date to")
    se.add_argument("--max-tries", type=int, default=6, help=argparse.SUPPRESS)
    se.add_argument("--backoff", type=float, default=1.0, help=argparse.SUPPRESS)

    rec = sub.add_parser("records", help="import and export bibliographic records")
    rs = rec.add_subparsers(dest="records_command", metavar="RECORDS_COMMAND", parser_class=_Parser)
    rs.required = True
    ri = rs.add_parser("import", help="import PubMed XML, MEDLINE (.txt/.nbib) or RIS files")
    ri.add_argument("files", nargs="+", metavar="FILE")
    ri.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    rx = rs.add_parser("export", help="export the unique records")
    rx.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    rx.add_argument("--format", required=True, choices=("jsonl", "csv", "ris"))
    rx.add_argument("-o", "--output", metavar="FILE", help="default: standard output")

    scr = sub.add_parser("screen", help="screening sheets and decisions")
    ss2 = scr.add_subparsers(dest="screen_command", metavar="SCREEN_COMMAND", parser_class=_Parser)
    ss2.required = True
    sx = ss2.add_parser("export", help="write a screening sheet (one row per unique record)")
    sx.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    sx.add_argument("--stage", default="title-abstract", choices=("title-abstract", "full-text"))
    g = sx.add_mutually_exclusive_group(required=True)
    g.add_argument("--csv", metavar="OUT.csv")
    g.add_argument("--xlsx", metavar="OUT.xlsx")
    si = ss2.add_parser("import", help="read a reviewer's filled screening sheet")
    si.add_argument("file", metavar="FILE")
    si.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    si.add_argument("--reviewer", required=True, metavar="NAME")
    si.add_argument("--stage", default="title-abstract", choices=("title-abstract", "full-text"))
    sc = ss2.add_parser("conflicts", help="list records the reviewers disagree on")
    sc.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    sc.add_argument("--stage", default="title-abstract", choices=("title-abstract", "full-text"))
    pr = sub.add_parser("prisma", help="PRISMA 2020 flow counts")
    pr.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    pr.add_argument("--json", action="store_true")

    sheet = sub.add_parser("sheet", help="check, create, reconcile and convert extraction sheets")
    ss = sheet.add_subparsers(dest="sheet_command", metavar="SHEET_COMMAND", parser_class=_Parser)
    ss.required = True
    check = ss.add_parser("check", help="report every problem of one or more sheets")
    check.add_argument("sheets", nargs="+", metavar="SHEET")
    new = ss.add_parser("new", help="write an empty sheet with the columns a measure needs")
    new.add_argument("file", metavar="FILE")
    new.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    ss.add_parser("codebook", help="print the codebook (Markdown) generated from the schema")
    rec = ss.add_parser("reconcile", help="compare two reviewers' sheets cell by cell")
    rec.add_argument("a", metavar="A.csv")
    rec.add_argument("b", metavar="B.csv")
    rec.add_argument("--out", metavar="OUT.csv", help="write the reconciled sheet (conflicts marked)")
    rec.add_argument("--force", action="store_true", help="replace an existing OUT")
    exp = ss.add_parser("export", help="write a sheet as an Excel workbook")
    exp.add_argument("sheet", metavar="SHEET")
    exp.add_argument("--xlsx", required=True, metavar="OUT.xlsx")
    exp.add_argument("--force", action="store_true", help="replace an existing OUT")
    imp = ss.add_parser("import", help="write an Excel workbook back as a CSV sheet")
    imp.add_argument("xlsx", metavar="IN.xlsx")
    imp.add_argument("--csv", required=True, metavar="OUT.csv")
    imp.add_argument("--force", action="store_true", help="replace an existing OUT")
    fr = ss.add_parser("from-records", help="prefill a new sheet's identity columns from the records store")
    fr.add_argument("file", metavar="FILE")
    fr.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    fr.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M")
    fr.add_argument("--all", action="store_true",
                    help="every unique record, not only those included at full-text screening")
    fr.add_argument("--force", action="store_true", help="replace an existing file")
    return p


def _pooled(args):
    """Pool as the command line asks; (result, exit code)."""
    from .errors import SheetError
    from .pooling import pool

    if args.method in LATER:
        print(f"metail2: error: method {args.method} ({LATER[args.method]}) is not available yet; "
              "use FE or a tau² estimator", file=sys.stderr)
        return None, 2
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            return pool(args.sheet, args.measure, args.method, args.test, by=args.by,
                        subgroup_tau2=args.subgroup_tau2, drop00=args.drop00), 0
        except SheetError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            return None, 2


def _plot(args) -> int:
    result, code = _pooled(args)
    if result is None:
        return code
    import matplotlib

    matplotlib.use("Agg")
    from .plots import forest, funnel

    if args.command == "plot":
        drawn = forest(result, style=args.style, prediction=args.prediction,
                       favours=(args.favours_left, args.favours_right), decimals=args.decimals, title=args.title)
    else:
        drawn = funnel(result, contours=args.contours)
    for out in args.output:
        if not out.lower().endswith((".png", ".svg", ".pdf")):
            print(f"metail2: error: {out}: use a .png, .svg or .pdf file name", file=sys.stderr)
            return 2
        import os

        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        drawn.savefig(out)
        print(f"wrote {out}")
    for w in result.warnings:
        print(f"metail2: warning: {w}", file=sys.stderr)
    return 0


def _pool(args) -> int:
    result, code = _pooled(args)
    if result is None:
        return code
    if args.json:
        for w in result.warnings:
            print(f"metail2: warning: {w}", file=sys.stderr)
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError:
        return 2
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    from .errors import SheetError

    handlers = {"pool": _pool, "plot": _plot, "funnel": _plot,
                "sheet": lambda a: SHEET_COMMANDS[a.sheet_command](a), **REVIEW_COMMANDS}
    try:
        return handlers[args.command](args)
    except SheetError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 2


def _refuse_existing(path: str, force: bool) -> bool:
    import os

    if os.path.exists(path) and not force:
        print(f"{path}: exists; pass --force to replace it", file=sys.stderr)
        return True
    return False


def _sheet_check(args) -> int:
    from .errors import SheetError
    from .sheets import check_sheet, read_sheet

    worst = 0
    for path in args.sheets:
        try:
            result = check_sheet(read_sheet(path, validate=False))
        except SheetError as exc:
            for problem in exc.problems:
                print(problem)
            print(f"{path}: cannot be read")
            worst = 2
            continue
        for problem in result.problems:
            print(problem)
        print(result.summary())
        if not result.ok:
            worst = 2
    return worst


def _sheet_new(args) -> int:
    from .csvio import atomic_write
    from .sheets import new_sheet_columns, rows_to_csv

    if _refuse_existing(args.file, args.force):
        return 2
    cols = new_sheet_columns(args.measure)
    atomic_write(args.file, rows_to_csv(cols).encode("utf-8"))
    print(f"{args.file}: empty {args.measure} sheet with columns {', '.join(cols)}")
    return 0


def _sheet_codebook(args) -> int:
    from .schema import codebook_markdown

    print(codebook_markdown(), end="")
    return 0


def _sheet_reconcile(args) -> int:
    from .reconcile import reconcile
    from .sheets import read_sheet, write_sheet

    a, b = read_sheet(args.a, validate=False), read_sheet(args.b, validate=False)
    r = reconcile(a, b)
    for d in r.disagreements:
        print(d)
    print(f"{r.cells_compared} cells compared: {len(r.disagreements)} disagreements, "
          f"{len(r.conflicts)} conflicts for a human")
    if args.out:
        if _refuse_existing(args.out, args.force):
            return 2
        write_sheet(r.merged, args.out, force=True)
        print(f"reconciled sheet written to {args.out}"
              + (" (conflicts marked 'CONFLICT: A=… | B=…')" if r.conflicts else ""))
    return 1 if r.conflicts else 0


def _sheet_export(args) -> int:
    from .excel import export_xlsx
    from .sheets import read_sheet

    if _refuse_existing(args.xlsx, args.force):
        return 2
    export_xlsx(read_sheet(args.sheet, validate=False), args.xlsx)
    print(f"{args.sheet} -> {args.xlsx}")
    return 0


def _sheet_import(args) -> int:
    from .excel import xlsx_to_csv

    xlsx_to_csv(args.xlsx, args.csv, force=args.force)
    print(f"{args.xlsx} -> {args.csv}")
    return 0


def _sheet_from_records(args) -> int:
    from .csvio import atomic_write, format_record
    from .screening import final_decisions
    from .sheets import new_sheet_columns

    if _refuse_existing(args.file, args.force):
        return 2
    with _store(args.db) as store:
        recs = store.records()
        if not args.all:
            keep = {k for k, v in final_decisions(store, "full-text").items() if v == "include"}
            recs = [r for r in recs if r["id"] in keep]
    cols = new_sheet_columns(args.measure)
    seen: dict[str, int] = {}
    lines = [format_record(cols, [False] * len(cols), "\n")]
    for r in sorted(recs, key=lambda r: (r["authors"][0] if r["authors"] else "", r["year"] or 0)):
        first = r["authors"][0].rsplit(" ", 1)[0] if r["authors"] else "Anonymous"
        sid = f"{first} {r['year'] or ''}".strip()
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            sid += "abcdefghijklmnopqrstuvwxyz"[seen[sid] - 1] if seen[sid] <= 26 else f" ({seen[sid]})"
        author = ", ".join(r["authors"][:3]) + (" et al." if len(r["authors"]) > 3 else "")
        cells = {"study_id": sid, "author": author, "year": str(r["year"] or ""), "pmid": r["pmid"] or "",
                 "doi": r["doi"] or ""}
        values = [cells.get(c, "") for c in cols]
        lines.append(format_record(values, [False] * len(cols), "\n"))
    atomic_write(args.file, "".join(lines).encode("utf-8"))
    print(f"{args.file}: {len(lines) - 1} studies prefilled ({'all records' if args.all else 'included at full text'})")
    return 0


SHEET_COMMANDS = {"check": _sheet_check, "new": _sheet_new, "codebook": _sheet_codebook,
                  "reconcile": _sheet_reconcile, "export": _sheet_export, "import": _sheet_import,
                  "from-records": _sheet_from_records}


def run() -> None:  # console entry point
    sys.exit(main())


# --------------------------------------------------------------------------- review commands

def _store(path: str):
    from .store import Store

    return Store(path)


def _search(args) -> int:
    from .pubmed import EutilsClient, EutilsError, run_search

    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    client = EutilsClient(base_url=args.eutils_url, email=args.email, api_key=args.api_key,
                          max_tries=args.max_tries, backoff=args.backoff, log=log)
    with _store(args.db) as store:
        try:
            run = run_search(store, client, args.query, batch_size=args.batch_size, mindate=args.mindate,
                             maxdate=args.maxdate, log=log)
        except EutilsError as exc:
            print(f"metail2: error: {exc}", file=sys.stderr)
            print("metail2: what was fetched is stored; run the same command again to resume", file=sys.stderr)
            return 4
    print(f"search {run.search_id}: {run.count} records in {run.parts} part(s); "
          f"{run.batches_fetched} batches fetched, {run.batches_skipped} already stored; "
          f"{run.records_new} new records, {run.records_duplicate} already known"
          + (f"; {len(run.records_missing)} listed but not returned: {', '.join(run.records_missing[:10])}"
             if run.records_missing else ""))
    return 0


def _records(args) -> int:
    import os

    from .records import NotXMLError, iter_medline, iter_pubmed_xml, iter_ris

    if args.records_command == "export":
        return _records_export(args)
    code = 0
    with _store(args.db) as store:
        for path in args.files:
            issues: list = []
            low = path.lower()
            kind = "ris" if low.endswith(".ris") else "medline" if low.endswith((".txt", ".nbib", ".medline")) \
                else "pubmed-xml"
            reader = {"ris": iter_ris, "medline": iter_medline, "pubmed-xml": iter_pubmed_xml}[kind]
            if not os.path.exists(path):
                print(f"{path}: no such file", file=sys.stderr)
                code = 2
                continue
            try:
                items = list(reader(path, issues))
            except (NotXMLError, RuntimeError) as exc:
                print(f"{path}: {exc}", file=sys.stderr)
                code = 2
                continue
            sid = store.start_search("file", os.path.abspath(path), kind, {}, None)
            results = store.add_records(sid, items)
            with store.transaction() as db:
                db.execute("UPDATE searches SET count=? WHERE id=?", (len(results), sid))
            store.finish_search(sid, "complete", "; ".join(map(str, issues)) or None)
            new = sum(r.status == "new" for r in results)
            dups = sum(r.status == "duplicate" for r in results)
            known = sum(r.status == "existing" for r in results)
            print(f"{path}: {len(results)} records ({new} new, {dups} duplicates linked, {known} already stored); "
                  f"{len(issues)} skipped")
            for issue in issues:
                print(f"  skipped: {issue}", file=sys.stderr)
            if issues:
                code = max(code, 1)
    return code


def _records_export(args) -> int:
    import csv as _csv
    import io

    from .csvio import atomic_write
    from .records import to_ris

    with _store(args.db) as store:
        rows = store.export_json()
    if args.format == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif args.format == "ris":
        text = to_ris(rows)
    else:
        out = io.StringIO()
        keys = list(rows[0]) if rows else ["pmid"]
        w = _csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: "; ".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in r.items()})
        text = out.getvalue()
    if args.output:
        atomic_write(args.output, text.encode("utf-8"))
        print(f"{len(rows)} records written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _screen(args) -> int:
    from .screening import conflicts, export_screening, import_screening

    with _store(args.db) as store:
        if args.screen_command == "export":
            out = args.csv or args.xlsx
            n = export_screening(store, args.stage, out)
            print(f"{n} records to screen ({args.stage}) written to {out}")
            return 0
        if args.screen_command == "import":
            rep = import_screening(store, args.file, args.reviewer, args.stage)
            print(f"{args.file}: {rep.stored} decisions by {args.reviewer} stored; {rep.blank} rows left blank")
            found = rep.conflicts
        else:
            found = conflicts(store, args.stage)
        for c in found:
            print(f"conflict: record {c['record_id']}: " + ", ".join(f"{k}={v}" for k, v in c["decisions"].items()))
        print(f"{len(found)} conflicts at {args.stage}")
    return 1 if found and args.screen_command == "conflicts" else 0


def _prisma(args) -> int:
    from .screening import prisma_counts

    with _store(args.db) as store:
        p = prisma_counts(store)
    print(p.to_json() if args.json else p.table())
    return 0


REVIEW_COMMANDS = {"search": _search, "records": _records, "screen": _screen, "prisma": _prisma}
