"""A review report as plain values, in PRISMA order: :func:`build_document`
turns the analyses (:class:`~.analyses.ReviewAnalyses`), figures made by the
layer above and PRISMA counts read by the command line into a
:class:`Document` of sections, tables and figures, which :mod:`.html` and
:mod:`.docx` render the same way."""
from __future__ import annotations

from dataclasses import dataclass, field

from ._table import Cell, Row, Table


@dataclass(frozen=True)
class Figure:
    """A figure: SVG text for the HTML report, PNG bytes for Word."""

    key: str
    title: str
    svg: str | None = None
    png: bytes | None = None
    caption: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    items: tuple = ()            # Table and Figure values, in order
    notes: tuple[str, ...] = ()  # analyses not run here, and why


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    methods: str
    reproducibility: tuple[tuple[str, str], ...]
    lang: str = "en"
    generator: str = "metail2"
    meta: dict = field(default_factory=dict)

    def tables(self) -> dict:
        return {t.key: t for s in self.sections for t in s.items if isinstance(t, Table)}

    def figures(self) -> dict:
        return {f.key: f for s in self.sections for f in s.items if isinstance(f, Figure)}


PRISMA_ROWS = (
    ("identified_total", "Records identified, total"), ("duplicates_removed", "Duplicate records removed"),
    ("records_removed_other", "Records removed for other reasons (withdrawn)"), ("screened", "Records screened"),
    ("excluded_screening", "Records excluded at title/abstract"), ("screening_pending", "Records awaiting screening"),
    ("screening_conflicts", "Screening conflicts awaiting a decision"), ("reports_sought", "Reports sought for retrieval"),
    ("reports_assessed", "Reports assessed for eligibility"), ("fulltext_pending", "Reports awaiting assessment"),
    ("fulltext_conflicts", "Full-text conflicts awaiting a decision"), ("included", "Studies included in review"),
)


def prisma_table(counts: dict) -> Table:
    """The PRISMA 2020 flow counts (``Prisma.to_dict()`` of :mod:`metail2.review`) as a table."""
    rows = [Row((Cell(f"Records identified from {src}"), Cell(str(n), numeric=True)))
            for src, n in (counts.get("identified") or {}).items()]
    for key, label in PRISMA_ROWS:
        if key in counts:
            rows.append(Row((Cell(label), Cell(str(counts[key]), numeric=True)), strong=key == "included"))
            if key == "reports_assessed":
                excl = counts.get("reports_excluded") or {}
                rows.append(Row((Cell("Reports excluded"), Cell(str(sum(excl.values())), numeric=True))))
                rows += [Row((Cell(f"  excluded: {reason}"), Cell(str(n), numeric=True))) for reason, n in excl.items()]
    return Table("prisma", "PRISMA 2020 flow counts", ("Stage", "Records"), tuple(rows),
                 "Counts from the review's records store (Page et al. 2021, BMJ 372:n71).")


def _figure(figures, key):
    f = (figures or {}).get(key)
    return (f,) if f is not None else ()


def build_document(analyses, *, figures: dict | None = None, prisma: dict | None = None,
                   reproducibility: tuple = (), title: str | None = None, base: str | None = None,
                   date: str | None = None, versions: dict | None = None, store: str | None = None) -> Document:
    """The report of ``analyses`` as a :class:`Document`.

    Parameters
    ----------
    figures : dict of key → Figure
        ``forest``, ``funnel``, ``prisma``, ``bubble``, ``rob``, ``baujat``, …
        (each shown in its section when given).
    prisma : dict, optional
        The PRISMA counts (``Prisma.to_dict()``); None when no store was given.
    reproducibility : tuple of (label, value)
    base : str, optional
        The folder the report is written to (sheet links are relative to it).
    date : str, optional
        Shown only when given (``--stamp``).
    """
    a = analyses
    r = a.result
    t = a.tables(base)
    unavailable = dict(a.unavailable)
    secs = []
    if prisma is not None:
        secs.append(Section("prisma", "Identification and screening (PRISMA 2020)",
                            (f"Records store: {store}",) if store else (), _figure(figures, "prisma") + (prisma_table(prisma),)))
    else:
        secs.append(Section("prisma", "Identification and screening (PRISMA 2020)",
                            ("No records store was given (--db REVIEW.sqlite): the search, screening and PRISMA "
                             "flow are not part of this report.",)))
    secs.append(Section("studies", "Included studies", (), (t["characteristics"],)))
    secs.append(Section("check", "The sheet check", (), (t["check"],)))
    secs.append(Section("effects", "Effect sizes", (), (t["effects"],)))
    secs.append(Section("pooled", "Pooled results", (), (t["pooled"],) + _figure(figures, "forest")))
    secs.append(Section("heterogeneity", "Heterogeneity", (), (t["heterogeneity"],)))
    sens = tuple(t[k] for k in ("estimators", "leave1out", "influence") if k in t) + _figure(figures, "baujat")
    secs.append(Section("sensitivity", "Sensitivity analyses", (), sens,
                        tuple(f"{k}: {v}" for k, v in unavailable.items()
                              if k in ("leave-one-out", "influence diagnostics", "sensitivity method",
                                       "sensitivity and small-study analyses"))))
    small = _figure(figures, "funnel") + ((t["small_study"],) if "small_study" in t else ())
    secs.append(Section("small_study", "Small-study effects", (), small,
                        tuple(f"{k}: {v}" for k, v in unavailable.items()
                              if k in ("Egger's test", "Begg's test", "trim-and-fill"))))
    if a.options.mods:
        secs.append(Section("metareg", "Meta-regression", (), ((t["metareg"],) if "metareg" in t else ())
                            + _figure(figures, "bubble"),
                            tuple(f"{k}: {v}" for k, v in unavailable.items() if k == "meta-regression")))
    if "rob" in t:
        secs.append(Section("rob", "Risk of bias", (), _figure(figures, "rob") + (t["rob"],)))
    methods = a.methods(versions=versions, date=date)
    name = title or f"Meta-analysis of {r.measure.label} ({r.measure.name})"
    sub = (f"{r.effects.sheet.path} · {r.effects.k} studies pooled · {r.method}, "
           f"{'Hartung–Knapp' if r.test.startswith('hk') else 'z'} test"
           + (f" · subgroups by {r.by}" if r.by else ""))
    return Document(name, sub, tuple(secs), methods, tuple(reproducibility))


__all__ = ["Document", "Section", "Figure", "build_document", "prisma_table"]
