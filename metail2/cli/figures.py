"""Figure commands: ``metail2 rob SHEET -o FILE`` (risk-of-bias traffic-light and summary plots)."""
from __future__ import annotations

import os

from .._io import atomic_output
from ._common import MEASURES, METHODS, error


def register(sub) -> None:
    r = sub.add_parser("rob", help="draw risk-of-bias plots (traffic light and summary) of a sheet", description=(
        "Draw the traffic-light plot (a circle per study and domain) and the summary bar plot of the sheet's "
        "RoB 2 (rob_d1 … rob_overall) or ROBINS-I (robins_d1 … robins_overall) judgements. With --measure the "
        "studies are those the analysis pools and the summary is weighted by their weights in it."))
    r.add_argument("sheet", metavar="SHEET")
    r.add_argument("-o", "--output", action="append", required=True, metavar="FILE",
                   help="output file (.png, .svg or .pdf); repeat for several")
    r.add_argument("--tool", choices=("rob2", "robins"), help="default: the one whose columns the sheet has")
    r.add_argument("--kind", choices=("both", "traffic", "summary"), default="both")
    r.add_argument("--measure", type=str.upper, choices=MEASURES, metavar="M",
                   help="weight the summary by the studies' weights when the sheet is pooled with this measure")
    r.add_argument("--method", default="REML", type=str.upper, choices=[m.upper() for m in METHODS], metavar="METHOD")
    r.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="only the rows whose COLUMN is VALUE (as in metail2 plot)")
    r.set_defaults(func=rob_command)


def rob_command(args) -> int:
    for out in args.output:
        if not out.lower().endswith((".png", ".svg", ".pdf")):
            error(f"{out}: use a .png, .svg or .pdf file name")
            return 2
    from ..sheets import read_sheet
    from .analyse import where_filter

    where_filter(args)
    source = args.sheet if not isinstance(args.sheet, str) else read_sheet(args.sheet)
    if args.measure:
        import warnings

        from ..errors import MetailWarning
        from ..models import pool

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MetailWarning)
            source = pool(source, args.measure, args.method)
    import matplotlib

    matplotlib.use("Agg")
    from ..plots import rob

    drawn = rob(source, tool=args.tool, kind=args.kind)
    for out in args.output:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        atomic_output(out, drawn.savefig)
        print(f"wrote {out}")
    if drawn.not_assessed:
        print(f"metail2: note: no {drawn.tool.name} judgement for: {', '.join(drawn.not_assessed)}")
    return 0


__all__ = ["register", "rob_command"]
