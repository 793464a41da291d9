"""``metail2 regress``: meta-regression on moderator columns, with permutation
tests and a bubble plot."""
from __future__ import annotations

import json
import os
import sys

from ._common import add_sheet_measure, error, permutations

KERNEL_METHODS = ("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "EB", "HE")


def register(sub) -> None:
    p = sub.add_parser("regress", help="meta-regression on moderator columns of a sheet", description=(
        "Fit a mixed-effects meta-regression (metafor's rma with mods): numeric columns are covariates, "
        "text columns factors (levels sorted, the first the reference). Rows with a missing moderator are "
        "left out with the reason. Default: REML with z tests."))
    add_sheet_measure(p)
    p.add_argument("--mods", required=True, nargs="+", metavar="COL", help="moderator columns")
    p.add_argument("--factor", nargs="+", default=[], metavar="COL",
                   help="moderators to treat as factors even though their cells are numbers")
    p.add_argument("--method", default="REML", type=str.upper, choices=KERNEL_METHODS, metavar="METHOD",
                   help="FE or a tau² estimator for the residual heterogeneity: DL, REML (default), ML, PM, HS, SJ, EB, HE")
    p.add_argument("--test", default="z", choices=("z", "hk"),
                   help="z (default) or hk (Knapp–Hartung t tests and an F omnibus test)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--permutations", type=permutations, metavar="N|exact",
                   help="permutation test: N random permutations (exact when N covers them all), or exact")
    p.add_argument("--seed", type=int, metavar="S", help="seed of the random permutations (recorded in the result)")
    p.add_argument("--drop00", action="store_true", help="drop double-zero two-arm tables")
    p.add_argument("--outcome", metavar="VALUE", help="only the rows with this outcome (needed when the sheet has several)")
    p.add_argument("--analysis", metavar="VALUE", help="only the rows with this analysis (needed when the sheet has several)")
    p.add_argument("--convention", default="metail2", type=str.lower, choices=("metail2", "metafor"),
                   help="metail2 (default): exact, unit-free numerics; metafor: metafor 3.8's own tolerances")
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.add_argument("-o", "--output", action="append", metavar="FILE",
                   help="write a bubble plot (.png, .svg or .pdf); repeat for several")
    p.add_argument("--plot-mod", metavar="COL",
                   help="moderator on the bubble plot's x axis (default: the first numeric one)")
    p.set_defaults(func=regress_command)


def _problems(exc) -> int:
    for problem in exc.problems:
        error(str(problem))
    return 2


def regress_command(args) -> int:
    import warnings

    from ..errors import SheetError
    from ..models.metareg import metareg
    from ..models.permutation import permutest

    if args.seed is not None and args.permutations is None:
        error("--seed applies to a random permutation test: add --permutations N")
        return 2
    if args.plot_mod is not None and not args.output:
        error("--plot-mod applies to the bubble plot: add -o FILE")
        return 2
    for out in args.output or ():
        if not out.lower().endswith((".png", ".svg", ".pdf")):
            error(f"{out}: use a .png, .svg or .pdf file name")
            return 2
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            result = metareg(args.sheet, args.mods, args.method, args.test, args.level, measure=args.measure,
                             factors=args.factor, drop00=args.drop00, convention=args.convention,
                             outcome=args.outcome, analysis=args.analysis)
            perm = None if args.permutations is None else permutest(result, args.permutations, args.seed)
        except SheetError as exc:
            return _problems(exc)
    drawn = None
    if args.output:
        import matplotlib

        matplotlib.use("Agg")
        from ..plots.bubble import bubble

        try:
            drawn = bubble(result, args.plot_mod)
        except SheetError as exc:
            return _problems(exc)
    if args.json:
        d = result.to_dict()
        if perm is not None:
            d["permutation"] = perm.to_dict()
        for w in result.warnings:
            print(f"metail2: warning: {w}", file=sys.stderr)
        print(json.dumps(d, indent=2, ensure_ascii=False))
    else:
        print(result)
        if perm is not None:
            print()
            print(perm)
    for out in args.output or ():
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        drawn.savefig(out)
        print(f"wrote {out}", file=sys.stderr if args.json else sys.stdout)
    return 0
