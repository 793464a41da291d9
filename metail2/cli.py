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
    pool.add_argument("--json", action="store_true", help="print the result JSON")
    return p


def _pool(args) -> int:
    from .errors import SheetError
    from .pooling import pool

    if args.method in LATER:
        print(f"metail2: error: method {args.method} ({LATER[args.method]}) is not available yet; "
              "use FE or a tau² estimator", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            result = pool(args.sheet, args.measure, args.method, args.test, by=args.by,
                          subgroup_tau2=args.subgroup_tau2, drop00=args.drop00)
        except SheetError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            return 2
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
    return 2  # pragma: no cover


def run() -> None:  # console entry point
    sys.exit(main())
