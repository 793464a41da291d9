"""Sheet commands: ``metail2 sheet check|new|codebook|reconcile|export|import|from-records``."""
from __future__ import annotations

import contextlib
import errno
import os
import sys

from ._common import MEASURES, error, refuse_existing, subcommands


def register(sub) -> None:
    sheet = sub.add_parser("sheet", help="check, create, reconcile and convert extraction sheets")
    ss = subcommands(sheet, "sheet_command")
    check = ss.add_parser("check", help="report every problem of one or more sheets")
    check.set_defaults(func=_sheet_check)
    check.add_argument("sheets", nargs="+", metavar="SHEET")
    new = ss.add_parser("new", help="write an empty sheet with the columns a measure needs")
    new.set_defaults(func=_sheet_new)
    new.add_argument("file", metavar="FILE")
    new.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    ss.add_parser("codebook", help="print the codebook (Markdown) generated from the schema").set_defaults(
        func=_sheet_codebook)
    rec = ss.add_parser("reconcile", help="compare two reviewers' sheets cell by cell")
    rec.set_defaults(func=_sheet_reconcile)
    rec.add_argument("a", metavar="A.csv")
    rec.add_argument("b", metavar="B.csv")
    rec.add_argument("--out", metavar="OUT.csv", help="write the reconciled sheet (conflicts marked)")
    rec.add_argument("--force", action="store_true", help="replace an existing OUT")
    exp = ss.add_parser("export", help="write a sheet as an Excel workbook")
    exp.set_defaults(func=_sheet_export)
    exp.add_argument("sheet", metavar="SHEET")
    exp.add_argument("--xlsx", required=True, metavar="OUT.xlsx")
    exp.add_argument("--force", action="store_true", help="replace an existing OUT")
    imp = ss.add_parser("import", help="write an Excel workbook back as a CSV sheet")
    imp.set_defaults(func=_sheet_import)
    imp.add_argument("xlsx", metavar="IN.xlsx")
    imp.add_argument("--csv", required=True, metavar="OUT.csv")
    imp.add_argument("--force", action="store_true",
                     help="replace OUT even though it was edited since the export (those edits are lost)")
    fr = ss.add_parser("from-records", help="prefill a new sheet's identity columns from the records store")
    fr.set_defaults(func=_sheet_from_records)
    fr.add_argument("file", metavar="FILE")
    fr.add_argument("--db", required=True, metavar="REVIEW.sqlite")
    fr.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M")
    fr.add_argument("--all", action="store_true",
                    help="every unique record, not only those included at full-text screening")
    fr.add_argument("--force", action="store_true", help="replace an existing file")


def _sheet_check(args) -> int:
    from ..errors import SheetError
    from ..sheets import check_sheet, read_sheet

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
    from ..sheets.csvio import atomic_write
    from ..effects import new_sheet_columns
    from ..sheets import rows_to_csv

    if _exists(args.file, args.force):
        return 2
    cols = new_sheet_columns(args.measure)
    with _writing(args.file):
        atomic_write(args.file, rows_to_csv(cols).encode("utf-8"))
    print(f"{args.file}: empty {args.measure} sheet with columns {', '.join(cols)}")
    return 0


def _sheet_codebook(args) -> int:
    from ..sheets.schema import codebook_markdown

    print(codebook_markdown(), end="")
    return 0


def _sheet_reconcile(args) -> int:
    from ..sheets.reconcile import reconcile
    from ..sheets import read_sheet, write_sheet

    if args.out and any(_same_file(args.out, x) for x in (args.a, args.b)):
        error(f"--out {args.out} is one of the sheets compared: write the reconciled sheet to a new file")
        return 2
    if args.out and _exists(args.out, args.force):
        return 2
    a, b = read_sheet(args.a, validate=False), read_sheet(args.b, validate=False)
    r = reconcile(a, b)
    for d in r.disagreements:
        print(d)
    print(f"{r.cells_compared} cells compared: {len(r.disagreements)} disagreements, "
          f"{len(r.conflicts)} conflicts for a human")
    if args.out:
        with _writing(args.out):
            write_sheet(r.merged, args.out, force=True)
        print(f"reconciled sheet written to {args.out}"
              + (" (conflicts marked 'CONFLICT: …')" if r.conflicts else ""))
    return 1 if r.conflicts else 0


def _sheet_export(args) -> int:
    from ..sheets.excel import export_xlsx
    from ..sheets import read_sheet

    if _same_file(args.xlsx, args.sheet):
        error(f"--xlsx {args.xlsx} is the sheet itself: name a new .xlsx file")
        return 2
    if _exists(args.xlsx, args.force):
        return 2
    sheet = read_sheet(args.sheet, validate=False)
    with _writing(args.xlsx):
        export_xlsx(sheet, args.xlsx)
    print(f"{args.sheet} -> {args.xlsx}")
    return 0


def _sheet_import(args) -> int:
    from ..sheets.excel import xlsx_to_csv

    with _writing(args.csv):
        sheet, prov = xlsx_to_csv(args.xlsx, args.csv, force=args.force)
    if prov is not None and prov.damaged:
        print(f"metail2: warning: {args.xlsx}: {prov.damaged}; rows were written from the cells alone "
              "(unchanged cells may be formatted differently)", file=sys.stderr)
    edited = sum(1 for r in sheet.rows if r.record is None or not r.record.raw)
    print(f"{args.xlsx} -> {args.csv}: {len(sheet.rows)} rows"
          + (f", {edited} edited in the workbook" if prov is not None and not prov.damaged else ""))
    return 0


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _exists(path: str, force: bool) -> bool:
    """True (and one error line) when ``path`` exists and ``--force`` was not given."""
    if os.path.isdir(path):
        error(f"{path} is a directory: name a file")
        return True
    if os.path.lexists(path) and not force:
        error(f"{path} exists; pass --force to replace it")
        return True
    return False


@contextlib.contextmanager
def _writing(path: str):
    """Turn a failed write of ``path`` into one clear error (nothing is written: writes are atomic)."""
    from .._io import StaleFileError
    from ..errors import InputError

    try:
        yield
    except StaleFileError as exc:
        raise InputError(f"{exc} (nothing written)") from None
    except OSError as exc:
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            why = f"directory {folder} does not exist"
        elif os.path.isdir(path):
            why = "it is a directory"
        elif isinstance(exc, PermissionError):
            why = f"permission denied (is {folder} read-only?)"
        elif exc.errno == errno.ENOSPC:
            why = "no space left on the device"
        else:
            why = exc.strerror or str(exc)
        raise InputError(f"cannot write {path}: {why}; nothing written") from None


def _sheet_from_records(args) -> int:
    from ..sheets.csvio import atomic_write, format_record
    from ..effects import new_sheet_columns
    from ..review import final_decisions, open_store

    if refuse_existing(args.file, args.force):
        return 2
    with open_store(args.db) as store:
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
    with _writing(args.file):
        atomic_write(args.file, "".join(lines).encode("utf-8"))
    print(f"{args.file}: {len(lines) - 1} studies prefilled ({'all records' if args.all else 'included at full text'})")
    return 0
