"""Analysis commands: ``pool``, ``plot`` (forest plot), ``funnel``."""
from __future__ import annotations

import json
import os

from .._io import atomic_output
from ._common import add_pool_args, error, non_negative_int, pooled, print_warnings


def register(sub) -> None:
    p = sub.add_parser("pool", help="pool an extraction sheet", description=(
        "Compute effect sizes from an extraction sheet and pool them. Default: REML with a z test."))
    add_pool_args(p)
    p.add_argument("--json", action="store_true", help="print the result JSON")
    p.set_defaults(func=pool_command)

    plot = sub.add_parser("plot", help="draw a forest plot of a sheet", description=(
        "Pool a sheet as `metail2 pool` does and draw its forest plot (PNG at 300 dpi, SVG or PDF "
        "with editable text)."))
    add_pool_args(plot)
    plot.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                      help="output file (.png, .svg or .pdf); repeat for several")
    plot.add_argument("--style", default="revman", choices=("revman", "jama"))
    plot.add_argument("--prediction", action="store_true", help="draw prediction intervals")
    plot.add_argument("--favours-left", default="", metavar="TEXT")
    plot.add_argument("--favours-right", default="", metavar="TEXT")
    plot.add_argument("--decimals", type=non_negative_int, default=None, metavar="N")
    plot.add_argument("--title", default=None)
    plot.set_defaults(func=plot_command)

    fun = sub.add_parser("funnel", help="draw a funnel plot of a sheet")
    add_pool_args(fun)
    fun.add_argument("-o", "--output", action="append", required=True, metavar="FILE")
    fun.add_argument("--contours", action="store_true", help="contour-enhanced (p < 0.01, 0.05, 0.1)")
    fun.set_defaults(func=plot_command)


def pool_command(args) -> int:
    result, code = pooled(args)
    if result is None:
        return code
    if args.json:
        print_warnings(result)
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result)
    return 0


def plot_command(args) -> int:
    result, code = pooled(args)
    if result is None:
        return code
    import matplotlib

    matplotlib.use("Agg")
    from ..plots import forest, funnel

    if args.command == "plot":
        drawn = forest(result, style=args.style, prediction=args.prediction,
                       favours=(args.favours_left, args.favours_right), decimals=args.decimals, title=args.title)
    else:
        drawn = funnel(result, contours=args.contours)
    for out in args.output:
        if not out.lower().endswith((".png", ".svg", ".pdf")):
            error(f"{out}: use a .png, .svg or .pdf file name")
            return 2
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        atomic_output(out, drawn.savefig)
        print(f"wrote {out}")
    print_warnings(result)
    return 0
