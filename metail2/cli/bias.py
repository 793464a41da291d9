"""``metail2 bias``: small-study effects — Egger's regression test, Begg's
rank correlation, trim-and-fill."""
from __future__ import annotations

import json
import sys

from ._common import MEASURES, error

KERNEL_METHODS = ("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "EB", "HE")


def register(sub) -> None:
    p = sub.add_parser("bias", help="small-study effects: Egger, Begg, trim-and-fill", description=(
        "Tests and adjustments for funnel-plot asymmetry (metafor's regtest, ranktest, trimfill). "
        "Warns when k < 10 and for single-arm proportions, where asymmetry means little."))
    p.add_argument("sheet", metavar="SHEET", help="extraction sheet (CSV)")
    p.add_argument("--measure", required=True, type=str.upper, choices=MEASURES, metavar="M",
                   help="effect measure: " + ", ".join(MEASURES))
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--egger", action="store_true", help="Egger's regression test (classical: weighted lm on the SE)")
    what.add_argument("--begg", action="store_true", help="Begg and Mazumdar's rank correlation test")
    what.add_argument("--trimfill", action="store_true", help="Duval and Tweedie's trim-and-fill")
    p.add_argument("--method", type=str.upper, choices=KERNEL_METHODS, metavar="METHOD",
                   help="model of --trimfill and of --egger --model rma: FE or a tau² estimator (default REML)")
    p.add_argument("--test", default="z", choices=("z", "hk"), help="inference of the fitted model (default z)")
    p.add_argument("--side", choices=("left", "right"), help="trim-and-fill: side of the missing studies "
                   "(default: chosen from the data, as metafor)")
    p.add_argument("--estimator", default="L0", type=str.upper, choices=("L0", "R0"),
                   help="trim-and-fill estimator of the number of missing studies (default L0)")
    p.add_argument("--model", default="lm", choices=("lm", "rma"),
                   help="Egger: lm (classical, default) or rma (mixed-effects meta-regression)")
    p.add_argument("--predictor", default="sei", choices=("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"),
                   help="Egger: the predictor (default sei, the standard error)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--drop00", action="store_true", help="drop double-zero two-arm tables")
    p.add_argument("--outcome", metavar="VALUE", help="only the rows with this outcome (needed when the sheet has several)")
    p.add_argument("--analysis", metavar="VALUE", help="only the rows with this analysis (needed when the sheet has several)")
    p.add_argument("--convention", default="metail2", type=str.lower, choices=("metail2", "metafor"),
                   help="metail2 (default): exact, unit-free numerics; metafor: metafor 3.8's own tolerances")
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.set_defaults(func=bias_command)


def _misused(args) -> str | None:
    """An option given to an analysis it does not apply to."""
    if not args.trimfill and (args.side or args.estimator != "L0"):
        return "--side and --estimator apply to --trimfill"
    if not args.egger and (args.model != "lm" or args.predictor != "sei"):
        return "--model and --predictor apply to --egger"
    if args.egger and args.model == "lm" and (args.method or args.test != "z"):
        return "--method and --test apply to --egger --model rma (the classical test is a weighted lm with a t test)"
    if args.begg and (args.method or args.test != "z"):
        return "--method and --test do not apply to --begg (it standardises with the common-effect estimate)"
    if not 0 < args.level < 1:
        return f"--level must lie in (0, 1) (is {args.level})"
    return None


def bias_command(args) -> int:
    import warnings

    from ..bias import begg, egger, trimfill
    from ..errors import SheetError

    bad = _misused(args)
    if bad:
        error(bad)
        return 2
    method = args.method or "REML"
    common = dict(measure=args.measure, drop00=args.drop00, outcome=args.outcome, analysis=args.analysis,
                  convention=args.convention)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            if args.egger:
                result = egger(args.sheet, args.model, args.predictor, method, args.test, args.level, **common)
            elif args.begg:
                common.pop("convention")
                result = begg(args.sheet, **common)
            else:
                result = trimfill(args.sheet, method, args.side, args.estimator, args.test, args.level, **common)
        except SheetError as exc:
            for problem in exc.problems:
                error(str(problem))
            return 2
    if args.json:
        for w in result.warnings:
            print(f"metail2: warning: {w}", file=sys.stderr)
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result)
    return 0
