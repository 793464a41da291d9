"""``metail2 sensitivity``: leave-one-out, cumulative, influence, GOSH and
permutation analyses of a sheet's pooled effect, on the batch engine."""
from __future__ import annotations

import json
import os
import sys

from ._common import add_sheet_measure, error, permutations, positive_int

KERNEL_METHODS = ("FE", "DL", "REML", "ML", "PM", "HS", "SJ", "EB", "HE")
ANALYSES = ("leave_one_out", "cumulative", "influence", "gosh", "permutation")
FIGURES = (".png", ".svg", ".pdf")


def register(sub) -> None:
    p = sub.add_parser("sensitivity", help="leave-one-out, cumulative, influence, GOSH, permutation", description=(
        "Sensitivity analyses of the pooled effect (PRISMA 2020 item 13f), each refitting the model many times "
        "on the batch engine: leave-one-out and cumulative meta-analysis, influence diagnostics (metafor's "
        "influence), GOSH (every subset up to 20 studies, else a random sample) and the permutation test of "
        "the pooled effect. Default: REML with a z test."))
    add_sheet_measure(p)
    p.add_argument("--method", default="REML", type=str.upper, choices=KERNEL_METHODS, metavar="METHOD",
                   help="FE or a tau² estimator: DL, REML (default), ML, PM, HS, SJ, EB, HE")
    p.add_argument("--test", default="z", choices=("z", "hk"), help="z (default) or hk (Hartung–Knapp)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--convention", default="metail2", type=str.lower, choices=("metail2", "metafor"),
                   help="metail2 (default): tau² solved exactly; metafor: metafor 3.8's iteration and stopping rule")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--leave-one-out", action="store_true", help="refit without each study (metafor leave1out)")
    which.add_argument("--cumulative", action="store_true", help="cumulative meta-analysis (metafor cumul)")
    which.add_argument("--influence", action="store_true", help="influence diagnostics (metafor influence)")
    which.add_argument("--gosh", action="store_true", help="the model fitted to subsets of the studies (metafor gosh)")
    which.add_argument("--permutation", nargs="?", const="exact", type=permutations, metavar="exact|N",
                       help="permutation test of the pooled effect: all 2^k sign flips (exact, default) or N random")
    p.add_argument("--order", metavar="COLUMN", help="--cumulative: add studies in the order of this column (e.g. year)")
    p.add_argument("--decreasing", action="store_true", help="--cumulative --order: largest first")
    p.add_argument("--subsets", type=positive_int, metavar="N",
                   help="--gosh: N random subsets (all of them when 2^k - 1 <= N); default all for k <= 20, "
                        "else 1,000,000")
    p.add_argument("--seed", type=int, metavar="S", help="--gosh/--permutation: seed of the random draws (recorded)")
    p.add_argument("--summary", action="store_true", help="--gosh: only the mean, minimum and maximum of each statistic")
    p.add_argument("--figure", choices=("influence", "baujat"), default="influence",
                   help="--influence -o: the panel of diagnostics (default) or the Baujat plot")
    p.add_argument("--drop00", action="store_true", help="drop double-zero two-arm tables")
    p.add_argument("--outcome", metavar="VALUE", help="only the rows with this outcome (needed when the sheet has several)")
    p.add_argument("--analysis", metavar="VALUE", help="only the rows with this analysis (needed when the sheet has several)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-o", "--output", action="append", metavar="FILE",
                   help="write the figure (.png, .svg, .pdf), the JSON (.json) or the table (.csv); repeat for several")
    p.set_defaults(func=sensitivity_command)


def _kind(args) -> str:
    return next(a for a in ANALYSES if getattr(args, a) not in (None, False))


def _usage_problems(args, kind: str) -> list[str]:
    problems = []
    if args.order is not None and kind != "cumulative":
        problems.append("--order applies to --cumulative")
    if args.decreasing and args.order is None:
        problems.append("--decreasing applies to --cumulative --order COLUMN")
    if (args.subsets is not None or args.summary) and kind != "gosh":
        problems.append("--subsets and --summary apply to --gosh")
    if args.seed is not None and kind not in ("gosh", "permutation"):
        problems.append("--seed applies to --gosh and --permutation")
    if not 0 < args.level < 1:
        problems.append(f"--level must lie in (0, 1) (is {args.level})")
    for out in args.output or ():
        if not out.lower().endswith(FIGURES + (".json", ".csv")):
            problems.append(f"{out}: use a .png, .svg, .pdf, .json or .csv file name")
    return problems


def run(effects, args, kind: str):
    """The analysis the arguments ask for, on ``effects``."""
    from ..sensitivity import cumulative, gosh, influence, leave1out, permutest

    model = {"method": args.method, "test": args.test, "level": args.level, "convention": args.convention}
    if kind == "leave_one_out":
        return leave1out(effects, **model)
    if kind == "cumulative":
        return cumulative(effects, args.order, decreasing=args.decreasing, **model)
    if kind == "influence":
        return influence(effects, **model)
    if kind == "gosh":
        return gosh(effects, args.subsets, args.seed, **model)
    return permutest(effects, args.permutation, args.seed, **model)


def sensitivity_command(args) -> int:
    from ..effects import escalc
    from ..report.sensitivity import render

    kind = _kind(args)
    problems = _usage_problems(args, kind)
    for msg in problems:
        error(msg)
    if problems:
        return 2
    effects = escalc(args.sheet, args.measure, drop00=args.drop00, outcome=args.outcome, analysis=args.analysis)
    try:
        result = run(effects, args, kind)
    except (ValueError, KeyError) as exc:
        error(f"{args.sheet}: {exc.args[0] if exc.args else exc}")
        return 2
    d = result.to_dict(summary_only=args.summary) if kind == "gosh" else result.to_dict()
    d["excluded"] = [e.to_dict() for e in effects.excluded]
    text = json.dumps(d, indent=2, ensure_ascii=False)
    print(text if args.json else render(d))
    for out in args.output or ():
        _write(out, result, text, args)
        print(f"wrote {out}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _write(out: str, result, text: str, args) -> None:
    from .._io import atomic_output

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    low = out.lower()
    if low.endswith(".json"):
        def save(path):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")

        atomic_output(out, save)
    elif low.endswith(".csv"):
        atomic_output(out, lambda p: result.to_frame().to_csv(p, index=False))
    else:
        import matplotlib

        matplotlib.use("Agg")
        drawn = figure(result, args.figure)
        atomic_output(out, drawn.savefig)


def figure(result, which: str = "influence"):
    """The figure of a sensitivity result."""
    from ..sensitivity import Gosh, Influence, Permutation

    if isinstance(result, Gosh):
        from ..plots.gosh import gosh_plot

        return gosh_plot(result)
    if isinstance(result, Influence):
        if which == "baujat":
            from ..plots.baujat import baujat

            return baujat(result)
        from ..plots.sensitivity import influence_plot

        return influence_plot(result)
    if isinstance(result, Permutation):
        from ..plots.sensitivity import permutation_plot

        return permutation_plot(result)
    from ..plots.sensitivity import refit_forest

    return refit_forest(result)
