"""Weighted least squares and the quantities of the (restricted) likelihood, on arrays.

With W = diag(w), A = XᵀWX, β = A⁻¹XᵀWy, e = y − Xβ and
P = W − WXA⁻¹XᵀW:  yᵀPy = Σ w e²,  tr P = Σw − tr(A⁻¹XᵀW²X),
tr PP = Σw² − 2 tr(A⁻¹XᵀW³X) + tr((A⁻¹XᵀW²X)²).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WLS:
    """Weighted least squares of y on X with weights w."""

    beta: np.ndarray
    resid: np.ndarray
    a_inv: np.ndarray
    w: np.ndarray

    @property
    def rss(self) -> float:
        """yᵀPy = Σ w e² (Cochran's Q when w = 1/vi)."""
        return float(np.dot(self.w, self.resid ** 2))


def wls(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> WLS:
    if X.shape[1] == 1:  # one column (the intercept-only model): scalars, same formulas
        x = X[:, 0]
        a = float(np.dot(w * x, x))
        beta = np.array([np.dot(w * x, y) / a])
        return WLS(beta, y - x * beta[0], np.array([[1.0 / a]]), w)
    xtw = X.T * w
    a_inv = np.linalg.inv(xtw @ X)
    beta = a_inv @ (xtw @ y)
    return WLS(beta, y - X @ beta, a_inv, w)


def _xtwx(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    if X.shape[1] == 1:
        return np.array([[np.dot(w * X[:, 0], X[:, 0])]])
    return (X.T * w) @ X


def _trace_p(f: WLS, X: np.ndarray) -> float:
    if X.shape[1] == 1:
        x2 = X[:, 0] ** 2
        return float(f.w.sum() - np.dot(f.w ** 2, x2) * f.a_inv[0, 0])
    return float(f.w.sum() - np.trace(f.a_inv @ _xtwx(X, f.w ** 2)))


def _trace_pp(f: WLS, X: np.ndarray) -> float:
    w2 = f.w ** 2
    if X.shape[1] == 1:
        x2 = X[:, 0] ** 2
        b = float(np.dot(w2, x2)) * f.a_inv[0, 0]
        return float(w2.sum() - 2 * np.dot(w2 * f.w, x2) * f.a_inv[0, 0] + b * b)
    b = f.a_inv @ _xtwx(X, w2)
    return float(w2.sum() - 2 * np.trace(f.a_inv @ _xtwx(X, w2 * f.w)) + np.trace(b @ b))


def q_at(tau2: float, y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """Generalised Q statistic Q(τ²) = Σ wᵢ(τ²) eᵢ², wᵢ = 1/(vᵢ + τ²)
    (metafor's ``.QE.func``; Q(0) is Cochran's Q)."""
    w = 1.0 / (v + tau2)
    if X.shape[1] == 1:  # intercept-only fast path (no WLS object)
        x = X[:, 0]
        wx = w * x
        e = y - x * (np.dot(wx, y) / np.dot(wx, x))
        return float(np.dot(w, e * e))
    return wls(y, X, w).rss


def loglik(tau2: float, y: np.ndarray, v: np.ndarray, X: np.ndarray, reml: bool) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML) at τ²
    (Viechtbauer 2005, eqs. 6 and 9)."""
    k, p = X.shape
    f = wls(y, X, 1.0 / (v + tau2))
    ll = -0.5 * (k - p if reml else k) * math.log(2 * math.pi) - 0.5 * float(np.log(v + tau2).sum()) - 0.5 * f.rss
    if reml:
        ll -= 0.5 * float(np.linalg.slogdet(np.linalg.inv(f.a_inv))[1])
    return ll
