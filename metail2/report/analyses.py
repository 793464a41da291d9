"""Every analysis a review report shows, run once from a sheet:
:func:`analyse` → :class:`ReviewAnalyses` (the sheet and its check, the
pooled result, the method comparison, leave-one-out, influence, the
small-study tests, a meta-regression when moderators are given).

Nothing here computes a number itself: each analysis is the package's own
verb (``pool``, ``leave1out``, ``influence``, ``egger``, ``begg``,
``trimfill``, ``metareg``). An analysis that cannot run on these data (too
few studies, a method it does not take) is listed with the reason instead.
Figures and PRISMA counts come from layers above and beside this one
(:mod:`metail2.plots`, :mod:`metail2.review`); :mod:`metail2.cli.report`
gathers them.
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

from ..errors import MetailError, MetailWarning, SheetError
from ..models import pool
from ..models.iv import METHODS as KERNEL_METHODS
from ..sheets import check_sheet, read_sheet

#: Methods the comparison table shows beside the chosen one (those that
#: apply to the measure and data; the rest are listed with the reason).
COMPARE = (("FE", "z"), ("DL", "z"), ("REML", "z"), ("PM", "z"), ("REML", "hk"))


@dataclass(frozen=True)
class Options:
    """How the review pools: the arguments of :func:`metail2.pool`, the
    moderators of the meta-regression, and what to do with unknown groups."""

    measure: str
    method: str = "REML"
    test: str = "z"
    by: str | None = None
    subgroup_tau2: str = "separate"
    convention: str = "metail2"
    hk_adhoc: bool = False
    drop00: bool = False
    outcome: str | None = None
    analysis: str | None = None
    mods: tuple[str, ...] = ()
    include_unclassified: bool = False

    def pool_kwargs(self) -> dict:
        kw = dict(method=self.method, test=self.test, by=self.by, subgroup_tau2=self.subgroup_tau2,
                  drop00=self.drop00, convention=self.convention, hk_adhoc=self.hk_adhoc, outcome=self.outcome,
                  analysis=self.analysis)
        if self.include_unclassified:
            if "include_unclassified" not in inspect.signature(pool).parameters:
                raise SheetError([_arg("include_unclassified", "this metail2 has no include_unclassified in pool")])
            kw["include_unclassified"] = True
        return kw

    def label(self, method: str | None = None, test: str | None = None, convention: str | None = None) -> str:
        s = f"{method or self.method} · {'Hartung–Knapp' if (test or self.test).startswith('hk') else 'z'}"
        conv = convention or self.convention
        return s + ("" if conv == "metail2" else f" · {conv}")


def _arg(column, message):
    from ..errors import Problem

    return Problem("<arguments>", None, None, column, message)


@dataclass(frozen=True)
class ReviewAnalyses:
    """What :func:`analyse` ran, each a frozen result value (or None), and
    the analyses not run with the reason (``unavailable``)."""

    options: Options
    sheet: object
    check: object
    result: object
    estimators: tuple = ()
    leave1out: object = None
    influence: object = None
    egger: object = None
    begg: object = None
    trimfill: object = None
    metareg: object = None
    unavailable: tuple[tuple[str, str], ...] = field(default=())

    @property
    def effects(self):
        return self.result.effects

    def methods(self, versions: dict | None = None, date: str | None = None) -> str:
        """The generated methods paragraph (:func:`~.methods_text.methods_paragraph`)."""
        from .methods_text import methods_paragraph

        return methods_paragraph(self.result, check=self.check, leave1out=self.leave1out is not None,
                                 influence=self.influence is not None,
                                 estimators=tuple(lab for lab, res, _ in self.estimators
                                                  if res is not None and lab != self.options.label()),
                                 egger=self.egger, begg=self.begg, trimfill=self.trimfill, metareg=self.metareg,
                                 versions=versions, date=date)

    def tables(self, base: str | None = None) -> dict:
        """Every table of the report by key (``characteristics``, ``check``,
        ``effects``, ``pooled``, ``heterogeneity``, ``estimators``,
        ``leave1out``, ``influence``, ``small_study``, ``metareg``, ``rob``);
        links to the sheet are relative to the folder ``base``."""
        from . import analysis_tables as at
        from . import sections as sec

        r, e = self.result, self.effects
        t = {"characteristics": sec.characteristics_table(e, base, r.by), "check": sec.check_table(self.check, e, base),
             "effects": sec.effects_table(r), "pooled": sec.pooled_table(r), "heterogeneity": sec.heterogeneity_table(r)}
        if self.estimators:
            t["estimators"] = at.estimators_table(self.estimators, self.options.label(), r.measure, r.by)
        if self.leave1out is not None:
            t["leave1out"] = at.leave_one_out_table(self.leave1out, e)
        if self.influence is not None:
            t["influence"] = at.influence_table(self.influence, e)
        if any(x is not None for x in (self.egger, self.begg, self.trimfill)):
            t["small_study"] = at.small_study_table(r.measure, self.egger, self.begg, self.trimfill,
                                                    [s.study_id for s in e.studies])
        if self.metareg is not None:
            t["metareg"] = at.metareg_table(self.metareg)
        rob = sec.rob_table(e)
        if rob is not None:
            t["rob"] = rob
        return t


def _try(what: str, unavailable: list, f, *args, **kwargs):
    try:
        return f(*args, **kwargs)
    except SheetError as exc:
        unavailable.append((what, "; ".join(p.message for p in exc.problems)))
    except (MetailError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
        unavailable.append((what, str(exc)))
    return None


def compare_methods(sheet, opts: Options, unavailable: list | None = None) -> tuple:
    """The same studies pooled with each method of :data:`COMPARE` (and
    GLMM, Mantel–Haenszel or Peto where the measure takes them, and the
    RevMan 5 convention): ``(label, MetaResult or None, why not)``."""
    rows = []
    cands = list(COMPARE)
    if opts.measure in ("PLO", "OR"):
        cands.append(("GLMM", "z"))
    if opts.measure in ("OR", "RR", "RD"):
        cands.append(("MH", "z"))
    if (opts.method, opts.test) not in cands:
        cands.insert(0, (opts.method, opts.test))
    convs = [(m, t, opts.convention) for m, t in cands] + [("DL", "z", "revman5")]
    seen = set()
    for m, t, conv in convs:
        label = opts.label(m, t, conv)
        if label in seen:
            continue
        seen.add(label)
        kw = opts.pool_kwargs() | dict(method=m, test=t, convention=conv)
        if conv == "revman5" or m not in KERNEL_METHODS:
            kw["subgroup_tau2"] = "separate"
            kw["hk_adhoc"] = False
        why: list = []
        res = _try(label, why, pool, sheet, opts.measure, **kw)
        rows.append((label, res, why[0][1] if why else None))
    return tuple(rows)


def analyse(sheet, measure: str, *, method: str = "REML", test: str = "z", by: str | None = None,
            subgroup_tau2: str = "separate", convention: str = "metail2", hk_adhoc: bool = False,
            drop00: bool = False, outcome: str | None = None, analysis: str | None = None, mods=(),
            include_unclassified: bool = False, compare: bool = True) -> ReviewAnalyses:
    """Run every analysis of a review report on one sheet.

    Parameters
    ----------
    sheet : path, Sheet or DataFrame
    measure, method, test, by, subgroup_tau2, convention, hk_adhoc, drop00, outcome, analysis
        As :func:`metail2.pool`.
    mods : sequence of str
        Moderator columns for a meta-regression (none: no meta-regression).
    include_unclassified : bool
        Keep studies with an unknown grouping value in the test for subgroup
        differences.
    compare : bool
        Pool with the other methods too (the sensitivity-to-method table).

    Returns
    -------
    ReviewAnalyses

    Raises
    ------
    SheetError
        When the sheet cannot be pooled as asked (every problem at once).

    Notes
    -----
    The package's warnings (k = 1, few studies for a funnel test, …) are
    recorded on each result (its ``warnings``) and shown as its notes; they
    are not also raised as Python warnings here.
    """
    from ..bias import begg as begg_test
    from ..bias import egger as egger_test
    from ..bias import trimfill as trimfill_fit
    from ..models.metareg import metareg as metareg_fit
    from ..sensitivity import influence as influence_fit
    from ..sensitivity import leave1out as leave1out_fit

    opts = Options(measure.upper(), method.upper(), test, by, subgroup_tau2, convention.lower(), hk_adhoc, drop00,
                   outcome, analysis, tuple(mods), include_unclassified)
    if not hasattr(sheet, "rows"):
        sheet = read_sheet(sheet, validate=False) if not hasattr(sheet, "columns") else _from_frame(sheet)
    check = check_sheet(sheet)
    unavailable: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetailWarning)
        result = pool(sheet, opts.measure, **opts.pool_kwargs())
        effects = result.effects
        kernel = result.method in KERNEL_METHODS
        sens_method = result.method if kernel else "REML"
        sens_test = result.test if result.test in ("z", "hk") else "hk"
        conv = opts.convention if opts.convention in ("metail2", "metafor") else "metail2"
        if not kernel:
            unavailable.append(("sensitivity method", f"{result.method} is not an inverse-variance method: "
                                "leave-one-out and influence use REML"))
        estimators = compare_methods(sheet, opts) if compare else ()
        loo = infl = eg = bg = tf = mr = None
        if effects.k >= 3:
            loo = _try("leave-one-out", unavailable, leave1out_fit, effects, sens_method, sens_test, result.level, conv)
            infl = _try("influence diagnostics", unavailable, influence_fit, effects, sens_method, sens_test,
                        result.level, conv)
            eg = _try("Egger's test", unavailable, egger_test, effects, convention=conv)
            bg = _try("Begg's test", unavailable, begg_test, effects)
            tf = _try("trim-and-fill", unavailable, trimfill_fit, effects, sens_method, convention=conv)
        else:
            unavailable.append(("sensitivity and small-study analyses", f"k = {effects.k}: at least 3 studies needed"))
        if opts.mods:
            mr = _try("meta-regression", unavailable, metareg_fit, effects, list(opts.mods), sens_method,
                      sens_test, result.level, convention=conv)
    return ReviewAnalyses(opts, sheet, check, result, estimators, loo, infl, eg, bg, tf, mr, tuple(unavailable))


def _from_frame(frame):
    from ..sheets import Sheet

    return Sheet.from_frame(frame)


__all__ = ["analyse", "compare_methods", "ReviewAnalyses", "Options", "COMPARE"]
