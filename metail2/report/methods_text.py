"""The generated methods paragraph: what was done, in the words a journal's
methods section uses, from the result values themselves (model, estimator,
CI method, τ² CI, prediction-interval rule, convention, subgroups,
sensitivity and small-study analyses, software versions; a date only when
asked)."""
from __future__ import annotations

import platform

ESTIMATORS = {
    "DL": "the DerSimonian–Laird method", "REML": "restricted maximum likelihood (REML)",
    "ML": "maximum likelihood", "PM": "the Paule–Mandel method", "HS": "the Hunter–Schmidt method",
    "SJ": "the Sidik–Jonkman method", "EB": "the empirical Bayes method", "HE": "the Hedges method",
}
OTHER_METHODS = {
    "MH": "the Mantel–Haenszel method (common effect)",
    "Peto": "Peto's one-step odds ratio (common effect)",
    "GLMM": "a binomial–normal generalised linear mixed model fitted by maximum likelihood "
            "(7-node adaptive Gauss–Hermite quadrature, as metafor's rma.glmm)",
}
CONVENTION_TEXT = {
    "metail2": "metail2's exact numerics (iterative estimators stop at |Δτ²| < 1e-10; metafor 3.8's definitions)",
    "metafor": "metafor 3.8's own tolerances and search limits",
    "revman5": "RevMan 5's rules as R meta 6.5 computes them (Mantel–Haenszel common effect for two-arm counts, "
               "DerSimonian–Laird with Q around it, Q-based I², no prediction interval, double-zero studies excluded)",
}


def software_versions() -> dict:
    """metail2, Python, NumPy and SciPy versions (no import of anything else)."""
    import numpy
    import scipy

    from .._version import __version__

    return {"metail2": __version__, "Python": platform.python_version(), "NumPy": numpy.__version__,
            "SciPy": scipy.__version__}


def _levels(result) -> str:
    return ", ".join(result.subgroups) if result.subgroups else ""


def methods_paragraph(result, *, check=None, leave1out: bool = False, influence: bool = False,
                      estimators: tuple[str, ...] = (), egger=None, begg=None, trimfill=None, metareg=None,
                      versions: dict | None = None, date: str | None = None) -> str:
    """A methods paragraph for ``result`` (a :class:`~metail2.models.MetaResult`).

    Parameters
    ----------
    leave1out, influence : bool
        Say that these sensitivity analyses were run.
    estimators : tuple of str
        The other methods the result was compared with.
    egger, begg, trimfill, metareg : result values, optional
        The small-study tests and meta-regression that were run.
    versions : dict, optional
        Software versions (default :func:`software_versions`).
    date : str, optional
        Named only when given (reports name it only with ``--stamp``).
    """
    r = result
    m = r.measure
    e = r.effects
    n_rows = len(e.sheet.rows) if e.sheet is not None else e.k
    out = [f"Effect sizes were computed as {m.label} ({m.name}) from the extraction sheet {e.sheet.path}: "
           f"{e.k} of {n_rows} rows were pooled"
           + (f"; {len(e.excluded)} without a complete input group were not pooled and are listed with the reason."
              if e.excluded else ".")]
    if m.name in ("OR", "RR", "RD"):
        out.append("Two-arm tables with a zero cell had 1/2 added to every cell; double-zero tables were "
                   + ("excluded." if r.convention == "revman5" else "kept."))
    elif m.name in ("PR", "PLO"):
        out.append("Studies with no events or only events had 1/2 added to events and non-events.")
    pct = f"{100 * r.level:g}%"
    if r.method in OTHER_METHODS:
        out.append(f"Studies were pooled with {OTHER_METHODS[r.method]}.")
    elif r.method == "FE":
        out.append("Studies were pooled with a common-effect (inverse-variance) model.")
    else:
        out.append(f"Studies were pooled with an inverse-variance random-effects model; the between-study variance "
                   f"τ² was estimated by {ESTIMATORS.get(r.method, r.method)}, with its {pct} confidence interval "
                   "from the Q-profile method (Viechtbauer 2007).")
    if r.test.startswith("hk"):
        out.append(f"{pct} confidence intervals and tests of the pooled effect use the Hartung–Knapp–Sidik–Jonkman "
                   "method (t distribution on k − 1 degrees of freedom"
                   + ("; ad hoc correction s² ≥ 1)." if r.test == "hk-adhoc" else ")."))
    else:
        out.append(f"{pct} confidence intervals and tests of the pooled effect use the normal distribution (Wald z).")
    if r.method != "FE" and r.method not in ("MH", "Peto"):
        if r.overall.pi_lower is None and r.convention == "revman5":
            out.append("No prediction interval is given (RevMan 5).")
        else:
            c = "t(k − 1)" if r.test.startswith("hk") else "the normal distribution"
            out.append(f"{pct} prediction intervals are μ̂ ± c·√(SE² + τ²) with c from {c} (metafor 3.8).")
    out.append("Heterogeneity is reported as Cochran's Q, I² from τ² and the typical within-study variance "
               "(metafor), I² as (Q − df)/Q (RevMan, meta), and H².")
    if r.by:
        if r.subgroup_tau2 == "common":
            out.append(f"Subgroups were defined by the sheet column “{r.by}” ({_levels(r)}) in one model with the "
                       "subgroup factor and a common residual τ²; the test for subgroup differences is the omnibus "
                       "Wald test of that factor.")
        else:
            out.append(f"Subgroups were defined by the sheet column “{r.by}” ({_levels(r)}), each fitted with its "
                       "own τ²; the test for subgroup differences is Cochran's Q between the subgroup estimates "
                       "on G − 1 degrees of freedom.")
        left_out = getattr(r.subgroup_test, "unclassified", ()) if r.subgroup_test is not None else ()
        if left_out:
            out.append(f"Studies with an unknown “{r.by}” ({', '.join(left_out)}) are shown as their own subgroup "
                       "but were left out of the test for subgroup differences.")
        out.append("A subgroup with one study is reported as that study's estimate (common effect, z test).")
    sens = []
    if leave1out:
        sens.append("a leave-one-out analysis")
    if influence:
        sens.append("influence diagnostics (externally studentised residuals, DFFITS, Cook's distances, covariance "
                    "ratios, hat values; metafor's criteria for influential studies)")
    if estimators:
        sens.append("a comparison with other methods (" + ", ".join(estimators) + ")")
    if sens:
        out.append("Sensitivity analyses: " + "; ".join(sens) + ".")
    tests = []
    if egger is not None:
        tests.append("Egger's regression test (weighted regression on the standard error with multiplicative "
                     "dispersion)" if egger.model == "lm" else f"Egger's regression test ({egger.method} meta-regression "
                     f"on {egger.predictor})")
    if begg is not None:
        tests.append("Begg and Mazumdar's rank correlation test")
    if trimfill is not None:
        tests.append(f"trim-and-fill ({trimfill.estimator} estimator)")
    if tests:
        s = "Small-study effects were examined with a funnel plot, " + ", ".join(tests) + "."
        if e.k < 10:
            s += (f" With k = {e.k} < 10 these tests have little power and are reported for completeness only "
                  "(Cochrane Handbook 13.3.5.4).")
        out.append(s)
    if metareg is not None:
        out.append(f"A {'common-effect' if metareg.method == 'FE' else 'mixed-effects'} meta-regression on "
                   f"{', '.join(metareg.mods)} was fitted ({metareg.method}; "
                   f"{'z' if metareg.test == 'z' else 'Knapp–Hartung t and F'} tests; R² as metafor's pseudo-R²).")
    out.append(f"Numerics follow the “{r.convention}” convention: {CONVENTION_TEXT.get(r.convention, r.convention)}.")
    v = versions or software_versions()
    when = f" on {date}" if date else ""
    out.append(f"Analyses were run{when} with metail2 {v['metail2']} (Python {v['Python']}, NumPy {v['NumPy']}, "
               f"SciPy {v['SciPy']}), whose pooling reproduces R's metafor (Viechtbauer 2010).")
    return " ".join(out)


__all__ = ["methods_paragraph", "software_versions"]
