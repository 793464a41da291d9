"""What every command shares: the parser class, the one error path, and the
pooling options of the analysis commands."""
from __future__ import annotations

import argparse
import os
import sys

MEASURES = ("OR", "RR", "RD", "HR", "MD", "SMD", "PR", "PLO", "PFT")
METHODS = ("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "EB", "HE", "MH", "Peto", "GLMM")


class UsageError(Exception):
    """argparse found bad usage (the message is already printed)."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise UsageError()


def subcommands(parser, dest: str):
    """Required subcommands of ``parser`` (a command group)."""
    sub = parser.add_subparsers(dest=dest, metavar=dest.upper(), parser_class=Parser)
    sub.required = True
    return sub


def non_negative_int(text: str) -> int:
    """argparse type: a whole number ≥ 0."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (is {n})")
    return n


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    n = non_negative_int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more (is 0)")
    return n


def permutations(text: str):
    """argparse type: ``exact`` or a number of permutations ≥ 2."""
    if text.lower() == "exact":
        return "exact"
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'exact' or a number of permutations, got {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError(f"at least 2 permutations (got {n})")
    return n


def add_sheet_measure(p) -> None:
    """SHEET and --measure, the first two arguments of every analysis."""
    p.add_argument("sheet", metavar="SHEET", help="extraction sheet (CSV)")
    p.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M",
                   help="effect measure: " + ", ".join(MEASURES))


def error(message: str) -> None:
    print(f"metail2: error: {message}", file=sys.stderr)


def refuse_existing(path: str, force: bool) -> bool:
    """True (and a message) when ``path`` exists and ``--force`` was not given."""
    if os.path.exists(path) and not force:
        print(f"{path}: exists; pass --force to replace it", file=sys.stderr)
        return True
    return False


def add_pool_args(p) -> None:
    """SHEET and the pooling options shared by pool, plot and funnel."""
    add_sheet_measure(p)
    p.add_argument("--method", default="REML", type=lambda s: s.upper(), metavar="METHOD",
                   choices=[m.upper() for m in METHODS],
                   help="FE (common effect), a tau² estimator: DL, REML (default), ML, PM, HS, SJ, EB, HE; "
                        "or MH (Mantel–Haenszel: OR, RR, RD), Peto (OR), GLMM (PLO, OR)")
    p.add_argument("--test", default="z", choices=("z", "hk"),
                   help="z (default) or hk (Hartung–Knapp–Sidik–Jonkman)")
    p.add_argument("--hk-adhoc", action="store_true",
                   help="with --test hk: the ad hoc correction s² = max(1, s²), never narrower than the z-based CI")
    p.add_argument("--by", metavar="COLUMN", help="subgroup column, e.g. route")
    p.add_argument("--outcome", metavar="VALUE", help="pool only the rows with this outcome (needed when the sheet has several)")
    p.add_argument("--analysis", metavar="VALUE", help="pool only the rows with this analysis (needed when the sheet has several)")
    p.add_argument("--subgroup-tau2", default="separate", choices=("separate", "common"),
                   help="separate tau² per subgroup (default) or one model with the subgroup factor")
    p.add_argument("--drop00", action="store_true",
                   help="drop double-zero two-arm tables (RevMan) instead of keeping them with the 1/2 correction")
    p.add_argument("--include-unclassified", action="store_true",
                   help="keep studies with an unknown --by value (empty, NA, 'not reported') in the test for "
                        "subgroup differences (default: their own subgroup, left out of the test, with a note)")
    p.add_argument("--convention", default="metail2", type=str.lower, choices=("metail2", "metafor", "revman5"),
                   help="metail2 (default): exact, unit-free numerics; metafor: metafor 3.8's own tolerances; "
                        "revman5: RevMan 5 as R meta computes it")


def pooled(args):
    """Pool as the command line asks; (result, exit code)."""
    import warnings

    from ..errors import SheetError
    from ..models import pool

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            return pool(args.sheet, args.measure, args.method, args.test, by=args.by,
                        subgroup_tau2=args.subgroup_tau2, drop00=args.drop00, convention=args.convention,
                        hk_adhoc=args.hk_adhoc, outcome=args.outcome, analysis=args.analysis,
                        include_unclassified=args.include_unclassified), 0
        except SheetError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            return None, 2


def print_warnings(result) -> None:
    for w in result.warnings:
        print(f"metail2: warning: {w}", file=sys.stderr)
