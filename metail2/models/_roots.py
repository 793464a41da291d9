"""Root finding exactly as R's ``uniroot`` does it."""
from __future__ import annotations

from typing import Callable

import numpy as np


def zeroin(f: Callable[[float], float], a: float, b: float, tol: float, maxiter: int = 1000) -> float:
    """Root of f in [a, b] by Brent's method, step for step as R's ``uniroot``.

    Notes
    -----
    Brent (1973), *Algorithms for Minimization without Derivatives*, ch. 4:
    bisection safeguarded inverse quadratic (or linear) interpolation, stopping
    when the bracket half-width is at most 2·ε·|b| + tol/2. R's ``uniroot``
    (``R_zeroin2``) runs this algorithm; following it exactly lets metail2
    reproduce metafor's root-found values (PM, Q-profile bounds) to machine
    precision rather than to ``tol``.
    """
    eps = float(np.finfo(float).eps)
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if fa * fb > 0:
        raise ArithmeticError("f() values at the end points are not of opposite sign")
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise ArithmeticError(f"root search did not converge in {maxiter} iterations")
