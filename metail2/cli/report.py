"""``metail2 report``: the review report as one self-contained HTML page (or
a Word file), and its API :func:`report`.

The command line is the one place allowed to glue every layer: the analyses
come from :mod:`metail2.report.analyses`, the figures from
:mod:`metail2.plots` (inline SVG for HTML, PNG for Word), the PRISMA counts
from the records store (:mod:`metail2.review`), and
:mod:`metail2.report.html` / :mod:`metail2.report.docx` render them.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import shlex

from ._common import add_pool_args, error

FORMATS = ("html", "docx")


def register(sub) -> None:
    p = sub.add_parser("report", help="write the review report (self-contained HTML, or Word)", description=(
        "Pool a sheet and write the review report: PRISMA counts (with --db), study characteristics with links "
        "to the sheet line and PubMed/DOI, the sheet check, pooled results with the studies behind every number, "
        "forest and funnel plots, heterogeneity, sensitivity and small-study analyses, risk of bias, the methods "
        "paragraph and a reproducibility block. One HTML file with no external assets; --format docx for Word."))
    add_pool_args(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="report.html or report.docx")
    p.add_argument("--format", choices=FORMATS, help="html or docx (default: from the file name)")
    p.add_argument("--db", metavar="REVIEW.sqlite", help="records store: add the PRISMA flow counts (and diagram)")
    p.add_argument("--mods", nargs="+", default=[], metavar="COL", help="moderators of a meta-regression")
    p.add_argument("--title", metavar="TEXT", help="the report's title")
    p.add_argument("--no-prediction", dest="prediction", action="store_false",
                   help="no prediction intervals on the forest plot")
    p.add_argument("--stamp", action="store_true", help="date the report (otherwise two runs give identical files)")
    p.set_defaults(func=report_command)


def report_command(args) -> int:
    fmt = args.format or ("docx" if args.output.lower().endswith(".docx") else "html")
    if fmt == "html" and not args.output.lower().endswith((".html", ".htm")) and args.format is None:
        error(f"{args.output}: name the report .html or .docx, or give --format")
        return 2
    report(args.sheet, args.measure, method=args.method, test=args.test, by=args.by,
           subgroup_tau2=args.subgroup_tau2, convention=args.convention, hk_adhoc=args.hk_adhoc, drop00=args.drop00,
           outcome=args.outcome, analysis=args.analysis, mods=args.mods,
           include_unclassified=args.include_unclassified, db=args.db, output=args.output, format=fmt,
           title=args.title, prediction=args.prediction, stamp=args.stamp)
    print(f"wrote {args.output}")
    return 0


def command_line(sheet, measure, *, method, test, by, subgroup_tau2, convention, hk_adhoc, drop00, outcome, analysis,
                 mods, include_unclassified, db, output, format, title, prediction, stamp) -> str:
    """The ``metail2 report`` command that reproduces a report (every choice spelt out)."""
    argv = ["metail2", "report", str(sheet), "--measure", measure, "--method", method, "--test", test]
    argv += ["--hk-adhoc"] if hk_adhoc else []
    argv += ["--by", by] if by else []
    argv += ["--subgroup-tau2", subgroup_tau2] if by and subgroup_tau2 != "separate" else []
    argv += ["--convention", convention] if convention != "metail2" else []
    argv += ["--drop00"] if drop00 else []
    argv += ["--outcome", outcome] if outcome else []
    argv += ["--analysis", analysis] if analysis else []
    argv += ["--mods", *mods] if mods else []
    argv += ["--include-unclassified"] if include_unclassified else []
    argv += ["--db", str(db)] if db else []
    argv += ["--title", title] if title else []
    argv += ["--no-prediction"] if not prediction else []
    argv += ["--stamp"] if stamp else []
    argv += ["--format", format] if format == "docx" and not str(output or "").lower().endswith(".docx") else []
    argv += ["-o", str(output)] if output else []
    return shlex.join(argv)


def _svg(fig) -> str:
    import matplotlib as mpl

    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "metail2"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.08, metadata={"Date": None})
    return buf.getvalue()


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, bbox_inches="tight", pad_inches=0.08, metadata={"Software": None})
    return buf.getvalue()


def make_figures(analyses, prisma=None, *, svg: bool = True, png: bool = False, prediction: bool = True) -> dict:
    """The report's figures (:class:`~metail2.report.document.Figure`): forest,
    funnel, and where the data have them the bubble plot, the PRISMA diagram,
    the Baujat plot and the risk-of-bias plot. A figure that cannot be drawn
    is an error, not a silent gap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import metail2.plots as plots
    from ..report.document import Figure

    r = analyses.result
    out = {}

    def add(key, title, caption, draw):
        drawn = draw()
        fig = getattr(drawn, "figure", drawn)
        try:
            out[key] = Figure(key, title, _svg(fig) if svg else None, _png(fig) if png else None, caption)
        finally:
            plt.close(fig)

    if prisma is not None:
        add("prisma", "PRISMA 2020 flow diagram", "Counts from the records store.", lambda: plots.prisma(prisma))
    add("forest", "Forest plot", f"{r.measure.label} ({r.measure.name}), {r.method}; squares sized by weight, "
        "diamonds the pooled estimates with 95% CIs" + ("; bars 95% prediction intervals." if prediction else "."),
        lambda: plots.forest(r, prediction=prediction))
    if r.effects.k >= 2:
        add("funnel", "Funnel plot", "Effect against standard error with pseudo 95% confidence limits around the "
            "overall estimate." + "".join(f" {c[:1].upper()}{c[1:]}." for c in _caveats(r.effects)),
            lambda: _quietly(plots.funnel, r))
    if analyses.influence is not None:
        add("baujat", "Baujat plot", "Each study's contribution to Q against its influence on the pooled estimate.",
            lambda: plots.baujat(analyses.influence))
    if analyses.metareg is not None:
        add("bubble", "Bubble plot", "Effects against the moderator, areas proportional to the weights, with the "
            "regression line and its 95% CI.", lambda: plots.bubble(analyses.metareg))
    if "rob" in analyses.tables():
        add("rob", "Risk of bias", "Judgements per domain.", lambda: plots.rob(analyses.effects.sheet))
    return out


def prisma_counts(db: str) -> dict:
    """The PRISMA 2020 counts of a records store, as a dict (the store is
    opened read-only: a report never changes it)."""
    from ..review import open_store
    from ..review import prisma_counts as counts

    with open_store(db, readonly=True) as store:
        return counts(store).to_dict()


def report(sheet, measure: str, *, method: str = "REML", test: str = "z", by: str | None = None,
           subgroup_tau2: str = "separate", convention: str = "metail2", hk_adhoc: bool = False, drop00: bool = False,
           outcome: str | None = None, analysis: str | None = None, mods=(), include_unclassified: bool = False,
           db: str | None = None, output: str | None = None, format: str | None = None, title: str | None = None,
           prediction: bool = True, stamp: bool = False):
    """Write (or return) the review report of a sheet.

    Parameters
    ----------
    sheet : path
        The extraction sheet.
    measure, method, test, by, subgroup_tau2, convention, hk_adhoc, drop00, outcome, analysis
        As :func:`metail2.pool`.
    mods : sequence of str
        Moderators of a meta-regression.
    include_unclassified : bool
        Keep studies with an unknown grouping value in the test for subgroup differences.
    db : path, optional
        The review's records store: adds the PRISMA counts (and diagram).
    output : path, optional
        Where to write it (atomically); links to the sheet are relative to its folder.
    format : {"html", "docx"}, optional
        Default: ``docx`` for a ``.docx`` output, else ``html``.
    stamp : bool
        Put today's date in the report; without it two runs give identical bytes.

    Returns
    -------
    str or bytes
        The HTML page, or the .docx bytes.
    """
    from ..report.analyses import analyse

    a = analyse(sheet, measure.upper(), method=method.upper(), test=test, by=by, subgroup_tau2=subgroup_tau2,
                convention=convention, hk_adhoc=hk_adhoc, drop00=drop00, outcome=outcome, analysis=analysis,
                mods=tuple(mods), include_unclassified=include_unclassified)
    return write_report(a, output=output, db=db, format=format, title=title, prediction=prediction, stamp=stamp)


def write_report(analyses, output: str | None = None, *, db: str | None = None, format: str | None = None,
                 title: str | None = None, prediction: bool = True, stamp: bool = False):
    """The report of analyses already run (:func:`metail2.report.analyses.analyse`):
    written to ``output`` when given, and returned (HTML text or .docx bytes);
    the other arguments as :func:`report`."""
    from .._io import atomic_write
    from ..report.document import build_document
    from ..report.methods_text import software_versions

    a = analyses
    o = a.options
    fmt = format or ("docx" if str(output or "").lower().endswith(".docx") else "html")
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose html or docx")
    counts = prisma_counts(db) if db else None
    figures = make_figures(a, counts, svg=fmt == "html", png=fmt == "docx", prediction=prediction)
    versions = software_versions()
    date = dt.date.today().isoformat() if stamp else None
    sheet = a.sheet.path
    cmd = command_line(sheet, o.measure, method=o.method, test=o.test, by=o.by, subgroup_tau2=o.subgroup_tau2,
                       convention=o.convention, hk_adhoc=o.hk_adhoc, drop00=o.drop00, outcome=o.outcome,
                       analysis=o.analysis, mods=o.mods, include_unclassified=o.include_unclassified, db=db,
                       output=output, format=fmt, title=title, prediction=prediction, stamp=stamp)
    repro = [("Command", cmd), ("Sheet", str(sheet)), ("Sheet SHA-256", a.sheet.sha256 or "–")]
    if db:
        from .._io import sha256

        with open(db, "rb") as f:
            repro.append(("Records store SHA-256", sha256(f.read())))
    repro += [(name, v) for name, v in versions.items()]
    repro.append(("matplotlib", _version("matplotlib")))
    if date:
        repro.append(("Date", date))
    base = os.path.dirname(os.path.abspath(output)) if output else os.getcwd()
    doc = build_document(a, figures=figures, prisma=counts, reproducibility=tuple(repro), title=title, base=base,
                         date=date, versions=versions, store=db)
    if fmt == "html":
        from ..report.html import render

        content = render(doc)
        data = content.encode("utf-8")
    else:
        from ..report.docx import docx_bytes

        content = data = docx_bytes(doc, date)
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        atomic_write(output, data)
    return content


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "–"


__all__ = ["register", "report", "write_report", "report_command", "make_figures",
           "prisma_counts", "command_line"]


def _quietly(draw, *args, **kwargs):
    """Draw without issuing the package's notes as Python warnings (the
    report prints them in its text: a figure's caveats go in its caption)."""
    import warnings

    from ..errors import MetailWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        return draw(*args, **kwargs)


def _caveats(effects):
    from ..bias import caveats

    return caveats(effects)
