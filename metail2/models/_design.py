"""The model matrix of a meta-regression from a sheet's own columns, as R builds it.

Numeric columns are covariates; text columns are factors with levels in
sorted order, the first the reference, one indicator per other level, named
column + level (``allocationrandom``); the intercept is ``intrcpt``. Rows with
a missing moderator are excluded with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..effects import EffectSizes, StudyEffect
from ..errors import Problem, SheetError
from ..sheets import Excluded, parse_number
from ..sheets.schema import MISSING

#: R's name of the intercept column.
INTERCEPT = "intrcpt"


# --------------------------------------------------------------------------- the model matrix

@dataclass(frozen=True)
class Moderator:
    """One moderator column: ``numeric`` (a covariate) or ``factor`` (text;
    levels in sorted order, the first the reference, one indicator column per
    other level, named column + level as R names them)."""

    column: str
    kind: str
    levels: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The coefficient names it contributes."""
        return (self.column,) if self.kind == "numeric" else tuple(self.column + lv for lv in self.levels[1:])

    def encode(self, value) -> list[float]:
        """Model-matrix entries for one value (a number, or a level's text)."""
        if self.kind == "numeric":
            return [float(value)]
        text = str(value).strip()
        if text not in self.levels:
            raise SheetError([Problem("<arguments>", None, None, self.column,
                                      f"{text!r} is not a level of {self.column!r} (levels: {', '.join(self.levels)})")])
        return [1.0 if text == lv else 0.0 for lv in self.levels[1:]]


@dataclass(frozen=True)
class Design:
    """The model matrix ``X`` (k × p, intercept first) and the studies in it (sheet order);
    ``excluded``: rows without a moderator value; ``values``: each study's moderator values."""

    X: np.ndarray
    names: tuple[str, ...]
    moderators: tuple[Moderator, ...]
    studies: tuple[StudyEffect, ...]
    excluded: tuple[Excluded, ...]
    values: tuple[Mapping[str, float | str], ...]
    notes: tuple[str, ...] = ()

    def rows(self, newmods) -> np.ndarray:
        """Model-matrix rows (intercept included) for new moderator values: a mapping
        column → value(s) (levels by their text), or as metafor's ``newmods`` an
        array of rows without the intercept (1-D: n values of a single column)."""
        p1 = len(self.names) - 1
        if isinstance(newmods, Mapping):
            known = [m.column for m in self.moderators]
            cols = {c: np.atleast_1d(np.asarray(newmods[c], dtype=object)) for c in newmods}
            n = max((len(v) for v in cols.values()), default=1)
            bad = [(c, "no value for this moderator") for c in known if c not in cols]
            bad += [(c, "not a moderator of the model") for c in cols if c not in known]
            bad += [(c, f"{len(v)} values, expected 1 or {n}") for c, v in cols.items() if len(v) not in (1, n)]
            if bad:
                raise SheetError([Problem("<arguments>", None, None, c, f"newmods: {msg}") for c, msg in bad])
            return np.array([[1.0] + [x for m in self.moderators for x in m.encode(cols[m.column][i % len(cols[m.column])])]
                             for i in range(n)])
        arr = np.asarray(newmods, dtype=float)
        arr = arr.reshape(-1, 1) if arr.ndim == 1 and p1 == 1 else np.atleast_2d(arr)
        if arr.ndim != 2 or arr.shape[1] != p1:
            raise SheetError([Problem("<arguments>", None, None, "newmods",
                                      f"newmods has {arr.shape[-1]} columns; the model has {p1} besides the intercept "
                                      f"({', '.join(self.names[1:])})")])
        return np.column_stack([np.ones(len(arr)), arr])


def _sheet_problem(effects, column, message, line=None) -> Problem:
    return Problem(effects.sheet.path, line, None, column, message)


def model_matrix(effects: EffectSizes, mods: Sequence[str], factors: Sequence[str] = ()) -> Design:
    """The model matrix for moderators ``mods`` (sheet columns), as R's ``model.matrix``:
    a column whose every reported cell is a number is a covariate (unless in
    ``factors``), otherwise a factor (levels sorted, the first the reference).
    Rows with an empty or NA moderator are excluded with the reason. Raises
    :class:`SheetError` for an unknown column, a constant moderator, collinear
    moderators, or no more studies than coefficients."""
    sheet = effects.sheet
    problems = [_sheet_problem(effects, c, f"moderator column {c!r} is not in the sheet (columns: {', '.join(sheet.columns)})", 1)
                for c in mods if c not in sheet.columns]
    problems += [_sheet_problem(effects, c, f"moderator {c!r} is given twice") for c in
                 dict.fromkeys(c for i, c in enumerate(mods) if c in mods[:i])]
    problems += [_sheet_problem(effects, c, f"factor {c!r} is not among the moderators") for c in factors if c not in mods]
    if not mods:
        problems.append(_sheet_problem(effects, None, "a meta-regression needs at least one moderator column"))
    if problems:
        raise SheetError(problems)

    studies, excluded, cells = [], [], []
    for s in effects.studies:
        texts = {c: s.row.text(c) for c in mods}
        gone = [c for c, t in texts.items() if t in MISSING]
        if gone:
            excluded.append(Excluded(s.study_id, "moderator " + ", ".join(repr(c) for c in gone) + " not reported", s.source))
            continue
        studies.append(s)
        cells.append(texts)
    k = len(studies)
    moderators, values, notes = [], [{} for _ in studies], []
    for c in mods:
        numbers = [_number(row[c]) for row in cells]
        numeric = c not in factors and None not in numbers
        if numeric:
            if k and len(set(numbers)) == 1:
                problems.append(_sheet_problem(effects, c, f"moderator {c!r} is constant ({numbers[0]:g}) across the {k} "
                                               "studies used; its coefficient cannot be estimated"))
            moderators.append(Moderator(c, "numeric"))
        else:
            levels = tuple(sorted({row[c] for row in cells}))
            if any(x is not None for x in numbers) and c not in factors:
                notes.append(f"moderator {c!r} mixes numbers and text; treated as a factor with levels {', '.join(levels)}")
            if k and len(levels) == 1:
                problems.append(_sheet_problem(effects, c, f"moderator {c!r} has a single value ({levels[0]!r}) across the "
                                               f"{k} studies used; its effect cannot be estimated"))
            moderators.append(Moderator(c, "factor", levels))
        for v, x, row in zip(values, numbers, cells):
            v[c] = x if numeric else row[c]
    if problems:
        raise SheetError(problems)
    names = (INTERCEPT,) + tuple(n for m in moderators for n in m.names)
    p = len(names)
    if k < p + 1:
        raise SheetError([_sheet_problem(effects, None, f"{k} studies with every moderator reported are too few for "
                                         f"{p} coefficients ({', '.join(names)}): a meta-regression needs at least "
                                         f"{p + 1}")])
    X = np.array([[1.0] + [x for m in moderators for x in m.encode(v[m.column])] for v in values]).reshape(k, p)
    _check_rank(effects, X, names, moderators)
    return Design(X, names, tuple(moderators), tuple(studies), tuple(excluded), tuple(values), tuple(notes))


def _number(text: str) -> float | None:
    try:
        return parse_number(text)
    except ValueError:
        return None


def _check_rank(effects: EffectSizes, X: np.ndarray, names, moderators) -> None:
    """Refuse a model matrix that is not of full column rank, naming the first
    coefficient that is a linear combination of those before it (metafor drops it)."""
    Z = X / np.linalg.norm(X, axis=0)
    for j in range(2, X.shape[1] + 1):
        if np.linalg.matrix_rank(Z[:, :j]) < j:
            owner = next(m.column for m in moderators if names[j - 1] in m.names)
            raise SheetError([_sheet_problem(effects, owner, f"coefficient {names[j - 1]!r} of moderator {owner!r} is a "
                                             f"linear combination of {', '.join(names[:j - 1])} over the studies used "
                                             "(collinear moderators); drop one")])


# --------------------------------------------------------------------------- results
