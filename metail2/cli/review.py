"""Review commands: ``metail2 search``, ``records import|export``, ``screen export|import|conflicts``, ``prisma``."""
from __future__ import annotations

import argparse
import sys

from ._common import positive_int, subcommands


def _seconds(text: str) -> float:
    """argparse type: a number of seconds, 0 or more."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= x < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more (is {text})")
    return x


def register(sub) -> None:
    se = sub.add_parser("search", help="search PubMed and fetch every record into a records store")
    se.add_argument("query", metavar="QUERY")
    se.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    se.add_argument("--email", help="your email, sent to NCBI as they ask")
    se.add_argument("--api-key", help="NCBI API key (or env NCBI_API_KEY): 10 requests/s instead of 3")
    se.add_argument("--eutils-url", help="E-utilities base ending in /entrez/eutils/ (or env METAIL2_EUTILS_URL)")
    se.add_argument("--batch-size", type=positive_int, default=200, metavar="N",
                    help="records per EFetch request and per transaction (default 200)")
    se.add_argument("--mindate", help="publication date from (YYYY/MM/DD, YYYY/MM or YYYY)")
    se.add_argument("--maxdate", help="publication date to")
    se.add_argument("--max-tries", type=positive_int, default=6, help=argparse.SUPPRESS)
    se.add_argument("--backoff", type=_seconds, default=1.0, help=argparse.SUPPRESS)
    se.set_defaults(func=_search)

    rec = sub.add_parser("records", help="import and export bibliographic records")
    rs = subcommands(rec, "records_command")
    ri = rs.add_parser("import", help="import PubMed XML, MEDLINE (.txt/.nbib) or RIS files")
    ri.add_argument("files", nargs="+", metavar="FILE")
    ri.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    ri.set_defaults(func=_records_import)
    rx = rs.add_parser("export", help="export the unique records")
    rx.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    rx.add_argument("--format", required=True, choices=("jsonl", "csv", "ris"),
                    help="csv is for spreadsheets: formula-like cells get a leading '")
    rx.add_argument("-o", "--output", metavar="FILE", help="written atomically; default: standard output")
    rx.set_defaults(func=_records_export)

    scr = sub.add_parser("screen", help="screening sheets and decisions")
    scr.set_defaults(func=_screen)
    ss2 = subcommands(scr, "screen_command")
    sx = ss2.add_parser("export", help="write a screening sheet (one row per unique record)")
    sx.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    sx.add_argument("--stage", default="title-abstract", choices=("title-abstract", "full-text"))
    g = sx.add_mutually_exclusive_group(required=True)
    g.add_argument("--csv", metavar="OUT.csv")
    g.add_argument("--xlsx", metavar="OUT.xlsx")
    si = ss2.add_parser("import", help="read a reviewer's filled screening sheet")
    si.add_argument("file", metavar="FILE")
    si.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    si.add_argument("--reviewer", required=True, metavar="NAME",
                    help="the reviewer's name (case and spacing ignored; 'consensus' settles conflicts)")
    si.add_argument("--stage", choices=("title-abstract", "full-text"),
                    help="the sheet's stage: read from its stage column; needed only for a sheet without one")
    si.add_argument("--replace", action="store_true",
                    help="store decisions that change ones this reviewer already stored (listed without it)")
    sc = ss2.add_parser("conflicts", help="list records the reviewers disagree on")
    sc.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    sc.add_argument("--stage", default="title-abstract", choices=("title-abstract", "full-text"))
    pr = sub.add_parser("prisma", help="PRISMA 2020 flow counts")
    pr.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    pr.add_argument("--json", action="store_true")
    pr.add_argument("--diagram", action="append", default=[], metavar="FILE",
                    help="also draw the PRISMA 2020 flow diagram (.svg, .png or .pdf); repeat for several")
    pr.set_defaults(func=_prisma)


def _search(args) -> int:
    from ..review import EutilsClient, EutilsError, open_store, run_search
    from ..review.search import check_search_options

    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    args.on_interrupt = "every batch already fetched is stored; run the same command again to resume"
    client = EutilsClient(base_url=args.eutils_url, email=args.email, api_key=args.api_key,
                          max_tries=args.max_tries, backoff=args.backoff, log=log)
    check_search_options(args.batch_size, args.mindate, args.maxdate)  # before a store is made
    with open_store(args.db, create=True) as store:
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


def _records_import(args) -> int:
    from ..errors import InputError
    from ..review import StoreError, import_file, inspect_file, open_store

    args.on_interrupt = ("the records of whole batches already imported are kept; run the same command again "
                         "to finish (a file already imported is recognised and not counted twice)")
    code = 0
    store = None
    try:
        for path in args.files:
            try:
                facts = inspect_file(path)
                if store is None:  # only once a file can be read: a command that imports nothing creates nothing
                    store = open_store(args.db, create=True)
                done = import_file(store, path, facts=facts)
            except StoreError:
                raise
            except (InputError, OSError) as exc:
                msg = str(exc) if isinstance(exc, InputError) else f"{exc.filename or path}: {exc.strerror or exc}"
                print(f"metail2: error: {msg if msg.startswith(path) else f'{path}: {msg}'}", file=sys.stderr)
                code = 2
                continue
            for note in (done.note, None if done.encoding.plain_utf8 else f"read as {done.encoding.how}"):
                if note:
                    print(f"{path}: {note}")
            if done.already is not None:
                print(f"{path}: already imported (import {done.already.id} of {done.already.query}, same content, "
                      f"SHA-256 {facts.sha256[:12]}…): nothing imported, not counted again")
                continue
            print(f"{path}: {done.total} records ({done.count('new')} new, {done.count('duplicate')} "
                  f"duplicates linked, {done.count('existing')} already stored); {len(done.issues)} skipped"
                  + (f"; resumed import {done.search_id} after the {done.resumed} records its first run stored"
                     if done.resumed else ""))
            for issue in done.issues:
                print(f"  skipped: {issue}", file=sys.stderr)
            if done.issues:
                code = max(code, 1)
    finally:
        if store is not None:
            store.close()
    return code


def _records_export(args) -> int:
    import io
    import os

    from .._io import atomic_write
    from ..review import open_store, write_records

    args.on_interrupt = "nothing was written" if args.output else "the output is incomplete"
    with open_store(args.db, readonly=True) as store:
        if not args.output:
            try:
                write_records(store.iter_export(), args.format, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # the reader stopped early (`| head`): nothing is wrong
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        written = []

        def stream(fh, _):  # straight into the temporary file: the store is read as it is written
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            written.append(write_records(store.iter_export(), args.format, text))
            text.flush()
            text.detach()

        atomic_write(args.output, b"", writer=stream)
    print(f"{written[0]} records written to {args.output}", file=sys.stderr)
    return 0


def _screen(args) -> int:
    from ..review import conflicts, export_screening, import_screening, open_store

    args.on_interrupt = "nothing was written" if args.screen_command == "export" else "nothing was stored"
    with open_store(args.db, readonly=args.screen_command != "import") as store:
        if args.screen_command == "export":
            out = args.csv or args.xlsx
            n = export_screening(store, args.stage, out)
            print(f"{n} records to screen ({args.stage}) written to {out}")
            return 0
        if args.screen_command == "import":
            rep = import_screening(store, args.file, args.reviewer, args.stage, replace=args.replace)
            print(f"{args.file}: {rep.stage} decisions by {rep.reviewer}: {rep.stored} stored ({rep.new} new, "
                  f"{rep.changed} changed); {rep.unchanged} unchanged; {rep.blank} rows left blank")
            found, stage = rep.conflicts, rep.stage
        else:
            found, stage = conflicts(store, args.stage), args.stage
        for c in found:
            print(f"conflict: record {c['record_id']}: " + ", ".join(
                f"{k}={v}" + (f" ({c['reasons'][k]})" if c["about"] == "reason" else "")
                for k, v in c["decisions"].items()))
        print(f"{len(found)} conflicts at {stage}")
    return 1 if found and args.screen_command == "conflicts" else 0


def _prisma(args) -> int:
    from ..review import open_store, prisma_counts

    for out in args.diagram:
        if not out.lower().endswith((".png", ".svg", ".pdf")):
            print(f"metail2: error: {out}: use a .png, .svg or .pdf file name", file=sys.stderr)
            return 2
    with open_store(args.db, readonly=True) as store:
        p = prisma_counts(store)
    print(p.to_json() if args.json else p.table())
    if args.diagram:
        import os

        import matplotlib

        matplotlib.use("Agg")
        from .._io import atomic_output
        from ..plots import prisma

        drawn = prisma(p.to_dict())
        for out in args.diagram:
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            atomic_output(out, drawn.savefig)
            print(f"wrote {out}", file=sys.stderr if args.json else sys.stdout)
    return 0
