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
    fr = ss.add_parser("from-records", help="prefill identity columns from the records store (not yet)")
    fr.add_argument("rest", nargs="*")
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
    if args.command == "pool":
        return _pool(args)
    if args.command in ("plot", "funnel"):
        return _plot(args)
    if args.command == "sheet":
        from .errors import SheetError

        try:
            return SHEET_COMMANDS[args.sheet_command](args)
        except SheetError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            return 2
    return 2  # pragma: no cover


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
    print("metail2: error: 'sheet from-records' needs the PubMed records store, which has not landed yet",
          file=sys.stderr)
    return 2


SHEET_COMMANDS = {"check": _sheet_check, "new": _sheet_new, "codebook": _sheet_codebook,
                  "reconcile": _sheet_reconcile, "export": _sheet_export, "import": _sheet_import,
                  "from-records": _sheet_from_records}


def run() -> None:  # console entry point
    sys.exit(main())
