"""Pooling: metafor's ``rma`` stage.

``pool(effects, method, test, by=...)`` takes the
:class:`~metail2.effects.EffectSizes` of a sheet and returns a frozen
:class:`~metail2.models.results.MetaResult`. The numbers come from the array
kernel :func:`metail2.models.iv.fit`; subgroups from :mod:`.subgroups`.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..effects import EffectSizes, escalc
from ..errors import MetailWarning, NotComputable, Problem, SheetError
from .conventions import DEFAULT, get_convention
from .inference import LEVEL
from .iv import METHODS, TESTS
from .methods import METHODS as ALTERNATIVES
from .methods import revman5_dl, usable
from .results import MetaResult
from .subgroups import (
    MISSING_GROUP,
    fit_common_tau2,
    group_rows,
    is_unclassified,
    pooled,
    subgroup_test_separate,
)


def pool(effects, measure: str | None = None, method: str = "REML", test: str = "z", *,
         by: str | None = None, subgroup_tau2: str = "separate", drop00: bool = False,
         level: float = LEVEL, convention: str = DEFAULT, hk_adhoc: bool = False,
         outcome: str | None = None, analysis: str | None = None,
         include_unclassified: bool = False) -> MetaResult:
    """Pool effect sizes with a common-effect or random-effects model.

    Parameters
    ----------
    effects : EffectSizes, or a Sheet / path / DataFrame with ``measure``
        The effect-size stage's value (from :func:`metail2.escalc`), or a sheet
        to compute it from.
    measure : str, optional
        Needed only when ``effects`` is a sheet.
    method : str
        ``FE`` or a τ² estimator: ``REML`` (default), ``DL``, ``ML``, ``PM``,
        ``HS``, ``SJ``, ``EB``, ``HE``.
    test : {"z", "hk"}
        Inference for the pooled estimate: normal (``z``) or
        Hartung–Knapp–Sidik–Jonkman (``hk``).
    by : str, optional
        A sheet column defining subgroups (e.g. ``route``).
    subgroup_tau2 : {"separate", "common"}
        ``separate``: each subgroup fitted alone (its own τ²), test for
        subgroup differences = Q between subgroup estimates on G−1 df;
        ``common``: one model with the subgroup factor and a common residual
        τ², test = omnibus QM (F under ``hk``).
    drop00 : bool
        Passed to :func:`~metail2.effects.escalc` when ``effects`` is a sheet.
    level : float
        Confidence level of every interval (default 0.95).
    convention : {"metail2", "metafor", "revman5"}
        What the result reproduces (:mod:`metail2.models.conventions`):
        ``metail2`` (default) exact, unit-free numerics; ``metafor`` metafor
        3.8's own tolerances; ``revman5`` RevMan 5 as R meta computes it.

    outcome, analysis : str, optional
        Passed to :func:`~metail2.effects.escalc` when ``effects`` is a sheet
        (a sheet with several outcomes or analyses needs one chosen).
    hk_adhoc : bool
        With ``test="hk"``: the ad hoc correction s² = max(1, s²) (metafor
        ``test="adhoc"``); the result's ``test`` is then ``hk-adhoc``.
    include_unclassified : bool
        Studies whose ``by`` value is unknown (empty, ``NA``, "not reported",
        … :data:`~metail2.models.subgroups.UNCLASSIFIED`) are pooled and drawn
        as their own subgroup but left out of the test for subgroup
        differences, with a note; ``True`` keeps them in it (as metafor, which
        knows no unknown level).

    Returns
    -------
    MetaResult
        The overall fit is always the model without subgroups.

    Raises
    ------
    SheetError
        Bad data or arguments (every problem at once).
    """
    conv = get_convention(convention)
    if not isinstance(effects, EffectSizes):
        if measure is None:
            raise SheetError([Problem("<arguments>", None, None, "measure", "a measure is needed to pool a sheet")])
        effects = escalc(effects, measure, drop00=drop00 or conv.drop00, smd=conv.smd, outcome=outcome,
                         analysis=analysis)
    method = method.upper()
    problems = []
    alt = ALTERNATIVES.get(method)
    if method not in METHODS and alt is None:
        problems.append(Problem("<arguments>", None, None, "method",
                                f"unknown or unavailable method {method!r}; choose from "
                                f"{', '.join(list(METHODS) + [m.name for m in ALTERNATIVES.values()])}"))
    if alt is not None:
        if test not in alt.tests:
            problems.append(Problem("<arguments>", None, None, "test", f"{alt.label} uses a z test, not {test!r}"))
        if by is not None and subgroup_tau2 == "common":
            problems.append(Problem("<arguments>", None, None, "subgroup_tau2",
                                    f"{alt.label} has no model with a common τ² across subgroups; use separate"))
    revman_counts = (conv.mh_common and alt is None and effects.measure.name in ("OR", "RR", "RD")
                     and all(s.input == "two-arm counts" for s in effects.studies))
    if revman_counts and method not in ("FE", "DL"):
        problems.append(Problem("<arguments>", None, None, "method", "the revman5 convention pools two-arm counts "
                                f"with FE (Mantel–Haenszel) or DL, not {method}"))
    if test not in TESTS:
        problems.append(Problem("<arguments>", None, None, "test", f"unknown test {test!r}; choose z or hk"))
    if subgroup_tau2 not in ("separate", "common"):
        problems.append(Problem("<arguments>", None, None, "subgroup_tau2",
                                f"unknown subgroup_tau2 {subgroup_tau2!r}; choose separate or common"))
    if not 0 < level < 1:
        problems.append(Problem("<arguments>", None, None, "level", f"level must lie in (0, 1) (is {level!r})"))
    if problems:
        raise SheetError(problems)

    if alt is not None:
        effects = usable(effects, alt)
    elif revman_counts and method == "FE":
        alt = ALTERNATIVES["MH"]
    try:
        return _pool(effects, method, test, by, subgroup_tau2, level, conv, hk_adhoc, alt,
                     revman_counts and method == "DL", include_unclassified)
    except NotComputable as exc:
        raise SheetError([Problem(effects.sheet.path, None, None, None, f"cannot pool: {exc}")]) from None
    except (ArithmeticError, FloatingPointError, np.linalg.LinAlgError) as exc:
        raise SheetError([Problem(effects.sheet.path, None, None, None,
                                  f"cannot pool these numbers in double precision ({type(exc).__name__}: {exc})")]) from None


def _pool(effects, method, test, by, subgroup_tau2, level, conv, hk_adhoc, alt=None, revman_dl=False,
          include_unclassified=False) -> MetaResult:
    notes: list[str] = []
    opts = dict(numerics=conv.numerics, prediction=conv.prediction, hk_adhoc=hk_adhoc and test == "hk")

    def fit_group(studies, label):
        if alt is None and not revman_dl:
            return pooled(studies, effects.measure, method, test, notes, label, level, **opts)
        if revman_dl:
            result, found = revman5_dl(studies, effects.measure, level, conv.numerics)
        else:
            result, found = alt.fit(studies, effects.measure, level, conv)
        for n in found:
            notes.append(f"{label}: {n}")
            warnings.warn(notes[-1], MetailWarning, stacklevel=3)
        return result

    overall = fit_group(effects.studies, "overall")
    subgroups = None
    st = None
    tau2_res = None
    if by is not None:
        groups = group_rows(effects, by)
        if MISSING_GROUP in groups:
            notes.append(f"{len(groups[MISSING_GROUP])} pooled row(s) have an empty {by!r}: grouped as '{MISSING_GROUP}'")
            warnings.warn(notes[-1], MetailWarning, stacklevel=2)
        unknown = () if include_unclassified else tuple(g for g in groups if is_unclassified(g))
        if unknown:
            ids = "; ".join(s.study_id for g in unknown for s in groups[g])
            notes.append(f"{by} = {', '.join(unknown)} ({ids}): an unknown {by}, pooled and drawn as its own subgroup "
                         "but left out of the test for subgroup differences (include_unclassified / "
                         "--include-unclassified keeps it)")
            warnings.warn(notes[-1], MetailWarning, stacklevel=2)
        if subgroup_tau2 == "separate":
            subgroups = {g: fit_group(ss, f"{by} = {g}") for g, ss in groups.items()}
            st = subgroup_test_separate(subgroups, unknown)
        else:
            if len(groups) < 2:
                raise SheetError([Problem(effects.sheet.path, None, None, by,
                                          f"--subgroup-tau2 common needs at least 2 subgroups; {by!r} has {len(groups)}")])
            subgroups, st, tau2_res = fit_common_tau2(effects, groups, method, test, notes, level, conv.numerics,
                                                      opts["hk_adhoc"], unknown)
        if st is None:
            notes.append(f"only one subgroup in {by!r}" + (" besides the unknown one(s)" if unknown else "")
                         + ": no test for subgroup differences")
            warnings.warn(notes[-1], MetailWarning, stacklevel=2)
    return MetaResult(
        measure=effects.measure, method=alt.name if alt is not None else method, test="hk-adhoc" if opts["hk_adhoc"] else test, effects=effects, overall=overall,
        by=by, subgroup_tau2=subgroup_tau2 if by else None,
        subgroups=subgroups, subgroup_test=st, tau2_residual=tau2_res, warnings=tuple(notes), level=level,
        convention=conv.name,
    )
