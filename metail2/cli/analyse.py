"""Analysis commands: ``pool``, ``plot`` (forest plot), ``funnel``."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .._io import atomic_output
from ._common import add_pool_args, error, non_negative_int, pooled, print_warnings


def positive_float(text: str) -> float:
    """argparse type: a number > 0 (inches)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not x > 0 or x != x or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number (is {text})")
    return x


def _add_where(p) -> None:
    p.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="analyse only the rows whose COLUMN is VALUE (VALUE,VALUE… for any of several); "
                        "repeat to require several, e.g. --where rob_overall=low (low risk of bias only)")


def register(sub) -> None:
    p = sub.add_parser("pool", help="pool an extraction sheet", description=(
        "Compute effect sizes from an extraction sheet and pool them. Default: REML with a z test."))
    add_pool_args(p)
    _add_where(p)
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.set_defaults(func=pool_command)

    plot = sub.add_parser("plot", help="draw a forest plot of a sheet", description=(
        "Pool a sheet as `metail2 pool` does and draw its forest plot (PNG at 300 dpi, SVG or PDF "
        "with editable text)."))
    add_pool_args(plot)
    _add_where(plot)
    plot.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                      help="output file (.png, .svg or .pdf); repeat for several")
    plot.add_argument("--style", default="revman", choices=("revman", "jama"))
    plot.add_argument("--prediction", action="store_true", help="draw prediction intervals (k >= 3)")
    plot.add_argument("--favours-left", default="", metavar="TEXT")
    plot.add_argument("--favours-right", default="", metavar="TEXT")
    plot.add_argument("--decimals", type=non_negative_int, default=None, metavar="N")
    plot.add_argument("--title", default=None)
    plot.add_argument("--xlim", type=float, nargs=2, metavar=("LO", "HI"),
                      help="axis limits on the natural scale (CIs beyond end in arrows)")
    plot.add_argument("--width", type=positive_float, metavar="INCHES", help="figure width")
    plot.add_argument("--height", type=positive_float, metavar="INCHES", help="figure height")
    plot.add_argument("--label-width", type=positive_float, metavar="INCHES",
                      help="study labels wider than this wrap (default 2.2)")
    plot.add_argument("--sort", choices=("year", "weight", "effect"), help="order of the studies in each subgroup")
    plot.add_argument("--i2", choices=("q", "tau2"), default="q",
                      help="I² in the heterogeneity lines: q (default, 100·(Q − df)/Q, as RevMan) or tau2 (metafor's)")
    plot.add_argument("--rob", nargs="?", const=True, default=False, choices=("rob2", "robins"),
                      help="risk-of-bias columns beside the table (RoB 2 or ROBINS-I columns of the sheet)")
    plot.add_argument("--engine", choices=("native", "forestplot"), default="native",
                      help="native (default) or the forestplot package for the study rows and table")
    plot.set_defaults(func=plot_command)

    fun = sub.add_parser("funnel", help="draw a funnel plot of a sheet")
    add_pool_args(fun)
    _add_where(fun)
    fun.add_argument("-o", "--output", action="append", required=True, metavar="FILE")
    fun.add_argument("--contours", action="store_true", help="contour-enhanced (p < 0.01, 0.05, 0.1)")
    fun.add_argument("--labels", action="store_true", help="write the study labels beside the points")
    fun.add_argument("--trimfill", action="store_true",
                     help="add trim-and-fill's filled studies (open markers) and adjusted estimate (dotted)")
    fun.add_argument("--egger", action="store_true", help="add Egger's regression line (classical, predictor sei)")
    fun.set_defaults(func=plot_command)


def where_filter(args) -> tuple[str, ...]:
    """Restrict ``args.sheet`` to the rows ``--where`` asks for (the sheet is
    read here and passed on as a value); returns the footnotes saying so."""
    if not getattr(args, "where", None):
        return ()
    from dataclasses import replace

    from ..errors import InputError
    from ..sheets import read_sheet

    sheet = read_sheet(args.sheet, validate=False)
    rows, notes = list(sheet.rows), []
    for cond in args.where:
        col, sep, value = cond.partition("=")
        col = col.strip()
        if not sep or not col:
            raise InputError(f"--where {cond!r}: write COLUMN=VALUE, e.g. rob_overall=low")
        if col not in sheet.columns:
            raise InputError(f"--where {cond!r}: {sheet.path} has no column {col!r}")
        wanted = {v.strip() for v in value.split(",")}
        rows = [r for r in rows if r.text(col) in wanted]
        notes.append(f"{col} = {' or '.join(sorted(wanted))}")
    if not rows:
        raise InputError(f"--where {' and '.join(args.where)}: no row of {sheet.path} matches")
    left_out = len(sheet.rows) - len(rows)
    args.sheet = replace(sheet, rows=tuple(rows))
    return (f"Only rows with {' and '.join(notes)} (--where); {left_out} row(s) of the sheet left out.",)


def pool_command(args) -> int:
    footnotes = where_filter(args)
    result, code = pooled(args)
    if result is None:
        return code
    if args.json:
        print_warnings(result)
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result)
        for note in footnotes:
            print(note)
    return 0


def plot_command(args) -> int:
    for out in args.output:
        if not out.lower().endswith((".png", ".svg", ".pdf")):
            error(f"{out}: use a .png, .svg or .pdf file name")
            return 2
    footnotes = where_filter(args)
    result, code = pooled(args)
    if result is None:
        return code
    import matplotlib

    matplotlib.use("Agg")
    from ..plots import forest, funnel

    if args.command == "plot":
        drawn = forest(result, style=args.style, prediction=args.prediction,
                       favours=(args.favours_left, args.favours_right), decimals=args.decimals, title=args.title,
                       xlim=tuple(args.xlim) if args.xlim else None, width=args.width, height=args.height,
                       label_width=args.label_width, sort=args.sort, i2=args.i2, rob=args.rob, engine=args.engine,
                       footnotes=footnotes)
    else:
        import warnings

        from ..bias import egger, trimfill
        from ..errors import MetailWarning

        with warnings.catch_warnings():  # the caveats are the plot's notes, printed below
            warnings.simplefilter("ignore", MetailWarning)
            tf = trimfill(result.effects, method=result.method) if args.trimfill else None
            eg = egger(result.effects) if args.egger else None
            drawn = funnel(result, contours=args.contours, labels=args.labels, trimfill=tf, egger=eg)
        for n in drawn.notes:
            print(f"metail2: warning: {n}", file=sys.stderr)
    for out in args.output:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        atomic_output(out, drawn.savefig)
        print(f"wrote {out}")
    print_warnings(result)
    return 0
