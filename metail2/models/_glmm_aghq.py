"""Engine of :mod:`.glmm`: the marginal likelihood of a binomial–logit model
with one scalar normal random effect per study, by adaptive Gauss–Hermite
quadrature (AGHQ), its exact gradient, a structured finite-difference
Hessian, and the maximisation (scipy).

Model, for study i and its rows j (arms; one row for a single proportion):

    yᵢⱼ ~ Bin(nᵢⱼ, expit(ηᵢⱼ)),  ηᵢⱼ = αᵢ + xᵢⱼᵀβ + τ·cᵢⱼ·uᵢ,  uᵢ ~ N(0, 1),

with optional per-study intercepts αᵢ (fixed study effects), shared fixed
effects β and the random-effect coefficients cᵢⱼ (1 for a random intercept,
±1/2 for a random treatment effect coded as in metafor). The parameter
vector is ``(α₁…α_k, β₁…β_q, τ)``; the likelihood is even in τ, so τ is
unconstrained and τ² = τ² whatever its sign.

AGHQ (Liu & Pierce 1994; Pinheiro & Bates 1995), exactly as lme4's
``glmerAGQ``: with hᵢ(u) = log f(yᵢ | u) − u²/2, its mode ûᵢ and
σ̂ᵢ = (−hᵢ''(ûᵢ))^(−1/2),

    ℓᵢ ≈ log σ̂ᵢ + log Σₖ wₖ exp(hᵢ(ûᵢ + σ̂ᵢzₖ) + zₖ²/2) + log-binomial constants,

where (zₖ, wₖ) is the Gauss–Hermite rule for the standard normal weight
(weights summing to 1). One node is the Laplace approximation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, root
from scipy.special import expit, gammaln, roots_hermitenorm


@dataclass(frozen=True)
class Data:
    """Counts on a (k studies × m rows) grid; rows with n = 0 are padding."""

    y: np.ndarray  # (k, m) events
    n: np.ndarray  # (k, m) trials
    xs: np.ndarray  # (k, m, q) design of the shared fixed effects
    c: np.ndarray  # (k, m) random-effect coefficients
    intercepts: bool  # per-study fixed intercepts αᵢ

    @property
    def k(self) -> int:
        return self.y.shape[0]

    @property
    def q(self) -> int:
        return self.xs.shape[2]

    @property
    def n_par(self) -> int:
        return (self.k if self.intercepts else 0) + self.q + 1

    def split(self, theta):
        k = self.k if self.intercepts else 0
        alpha = theta[:k] if self.intercepts else np.zeros(self.k)
        return alpha, theta[k:k + self.q], float(theta[-1])


def rule(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes and weights for the standard normal density
    (probabilists' Hermite polynomials; weights sum to 1), symmetrised."""
    z, w = roots_hermitenorm(nodes)
    z, w = (z - z[::-1]) / 2, (w + w[::-1]) / 2
    return z, w / w.sum()


def _softplus(x):
    return np.logaddexp(0.0, x)


def modes(eta0, s, y, n, tol: float = 1e-12, maxiter: int = 100) -> np.ndarray:
    """Conditional modes ûᵢ of hᵢ(u) = Σⱼ[yⱼηⱼ − nⱼ log(1 + e^ηⱼ)] − u²/2,
    ηⱼ = eta0ⱼ + sⱼu, by Newton's method with step halving (hᵢ is strictly
    concave: h'' ≤ −1), all studies at once."""
    def h(u):
        eta = eta0 + s * u[:, None]
        return (y * eta - n * _softplus(eta)).sum(1) - u * u / 2

    u = np.zeros(eta0.shape[0])
    hu = h(u)
    for _ in range(maxiter):
        p = expit(eta0 + s * u[:, None])
        g = (s * (y - n * p)).sum(1) - u
        hh = -(s * s * n * p * (1 - p)).sum(1) - 1.0
        step = -g / hh
        t = np.ones_like(u)
        for _ in range(60):
            new = u + t * step
            hn = h(new)
            bad = hn < hu - 1e-12 * np.abs(hu)
            if not bad.any():
                break
            t = np.where(bad, t / 2, t)
        u, hu = new, hn
        if np.all(np.abs(t * step) <= tol * (1 + np.abs(u))):
            break
    return u


def negloglik(theta, data: Data, z, w, grad: bool = True):
    """−log L (AGHQ) and its exact gradient (the dependence of the adaptive
    nodes on the parameters included: implicit differentiation of ûᵢ and σ̂ᵢ)."""
    alpha, beta, tau = data.split(np.asarray(theta, dtype=float))
    y, n, c = data.y, data.n, data.c
    eta0 = alpha[:, None] + data.xs @ beta
    s = tau * c
    u = modes(eta0, s, y, n)
    p = expit(eta0 + s * u[:, None])
    A = n * p * (1 - p)
    B = A * (1 - 2 * p)
    H2 = -(s * s * A).sum(1) - 1.0
    H3 = -(s ** 3 * B).sum(1)
    sig = 1 / np.sqrt(-H2)
    uk = u[:, None] + sig[:, None] * z[None, :]  # (k, K)
    etak = eta0[:, :, None] + s[:, :, None] * uk[:, None, :]  # (k, m, K)
    hk = (y[:, :, None] * etak - n[:, :, None] * _softplus(etak)).sum(1) - uk * uk / 2
    lk = np.log(w)[None, :] + hk + z[None, :] ** 2 / 2
    mx = lk.max(1)
    ll = np.log(sig) + mx + np.log(np.exp(lk - mx[:, None]).sum(1))
    const = (gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)).sum()
    f = -(ll.sum() + const)
    if not grad:
        return f
    pi = np.exp(lk - ll[:, None] + np.log(sig)[:, None])  # normalised node weights (k, K)
    pk = expit(etak)
    rk = y[:, :, None] - n[:, :, None] * pk  # (k, m, K)
    hpk = (s[:, :, None] * rk).sum(1) - uk  # h'(u_k)
    M1 = (pi * hpk).sum(1)
    Mz = (pi * hpk * z[None, :]).sum(1)
    R = (rk * pi[:, None, :]).sum(2)  # (k, m)
    # fixed effects (∂η/∂θ = x): coefficient of xᵢⱼ in dℓᵢ/dθ
    U = s * A / H2[:, None]
    L = -0.5 * (-(s * s) * B + H3[:, None] * U) / H2[:, None]
    coef = L * (1 + sig * Mz)[:, None] + R + M1[:, None] * U
    g_beta = np.einsum("ij,ijl->l", coef, data.xs)
    # τ (∂η/∂τ = c·u)
    r0 = y - n * p
    dh1 = (c * r0).sum(1) - u * (s * A * c).sum(1)
    dh2 = -2 * (s * c * A).sum(1) - u * (s * s * B * c).sum(1)
    du = -dh1 / H2
    dls = -0.5 * (dh2 + H3 * du) / H2
    g_tau = (dls * (1 + sig * Mz) + (pi * ((rk * c[:, :, None]).sum(1) * uk)).sum(1) + M1 * du).sum()
    parts = ([coef.sum(1)] if data.intercepts else []) + [g_beta, [g_tau]]
    return f, -np.concatenate(parts)


@dataclass(frozen=True)
class Arrow:
    """A symmetric arrow matrix [[diag(d), B], [Bᵀ, C]]: the Hessian when the
    model has study intercepts (αᵢ meets only αᵢ, β and τ); with none, d and
    B are empty and C is the whole matrix. Products, solves and the
    covariance of the trailing block cost O(k)."""

    d: np.ndarray  # (ka,)
    B: np.ndarray  # (ka, r)
    C: np.ndarray  # (r, r)

    def dense(self) -> np.ndarray:
        ka = len(self.d)
        return np.block([[np.diag(self.d), self.B], [self.B.T, self.C]]) if ka else self.C.copy()

    def dot(self, v):
        ka = len(self.d)
        va, vb = v[:ka], v[ka:]
        return np.concatenate([self.d * va + self.B @ vb, self.B.T @ va + self.C @ vb])

    def schur(self) -> np.ndarray:
        """C − Bᵀ diag(d)⁻¹ B; its inverse is the covariance of (β, τ)."""
        return self.C - (self.B.T / self.d) @ self.B if len(self.d) else self.C

    def solve(self, g):
        ka = len(self.d)
        ga, gb = g[:ka], g[ka:]
        xb = np.linalg.solve(self.schur(), gb - self.B.T @ (ga / self.d))
        return np.concatenate([(ga - self.B @ xb) / self.d, xb])

    def positive_definite(self) -> bool:
        return bool(np.all(self.d > 0) and np.all(np.linalg.eigvalsh(self.schur()) > 0))


def hessian(theta, data: Data, z, w, rel: float = 1e-5) -> Arrow:
    """Hessian of −log L by central differences of the exact gradient.

    With study intercepts all αᵢ are stepped at once (the gradient in αᵢ
    depends on no other αⱼ), so it costs 2(q + 2) gradients whatever k.
    """
    theta = np.asarray(theta, dtype=float)
    npar = len(theta)
    ka = data.k if data.intercepts else 0

    def grad(t):
        return negloglik(t, data, z, w)[1]

    steps = rel * np.maximum(1.0, np.abs(theta))
    d = np.zeros(ka)
    if ka:
        e = np.zeros(npar)
        e[:ka] = steps[:ka]
        d = (grad(theta + e) - grad(theta - e))[:ka] / (2 * steps[:ka])
    cols = np.empty((npar, npar - ka))
    for j in range(ka, npar):
        e = np.zeros(npar)
        e[j] = steps[j]
        cols[:, j - ka] = (grad(theta + e) - grad(theta - e)) / (2 * steps[j])
    C = cols[ka:]
    return Arrow(d=d, B=cols[:ka], C=(C + C.T) / 2)


@dataclass(frozen=True)
class Optimum:
    """The maximum: parameters, the covariance of the trailing (β, τ)
    parameters (inverse observed information), log-likelihood, and ``step``
    = the largest remaining Newton step |H⁻¹g|/max(1, |θ|) (the error left
    in the parameters)."""

    theta: np.ndarray
    vcov: np.ndarray
    loglik: float
    converged: bool
    iterations: int
    step: float
    message: str


#: Parameters up to which the dense trust-region Newton method is used;
#: beyond, the Krylov one with Hessian–vector products (O(k) each).
DENSE_MAX = 200


def maximise(data: Data, theta0, nodes: int, xtol: float = 1e-7) -> Optimum:
    """Maximum-likelihood fit with scipy's trust-region Newton methods
    (``trust-exact``, or ``trust-krylov`` beyond :data:`DENSE_MAX`
    parameters) on −log L with its exact gradient and the finite-difference
    :class:`Arrow` Hessian; near the optimum the changes in log L fall below
    rounding and the trust region stalls, so (up to :data:`DENSE_MAX`
    parameters) the score equations are then solved by
    ``scipy.optimize.root`` (Powell's hybrid method, no function values).
    Converged when the Hessian is positive definite and the remaining Newton
    step is at most ``xtol``·max(1, |θ|) (typically ~1e-12 is reached). The covariance of (β, τ) is the
    inverse observed information (as lme4's ``vcov`` with
    ``use.hessian=TRUE``)."""
    z, w = rule(nodes)
    cache: dict = {}

    def fg(t):
        return negloglik(t, data, z, w)

    def hess(t) -> Arrow:
        key = t.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = hessian(t, data, z, w)
        return cache[key]

    x0 = np.asarray(theta0, dtype=float)
    with np.errstate(over="ignore", under="ignore"):
        if len(x0) <= DENSE_MAX:
            r = minimize(fg, x0, jac=True, hess=lambda t: hess(t).dense(), method="trust-exact",
                         options={"gtol": 1e-10, "maxiter": 500})
        else:
            r = minimize(fg, x0, jac=True, hessp=lambda t, v: hess(t).dot(v), method="trust-krylov",
                         options={"gtol": 1e-10, "maxiter": 500})
    x, iterations = r.x, int(r.nit)
    f, g = fg(x)
    H = hess(x)
    step = _newton_step(H, g, x)
    if step > 1e-10 and len(x) <= DENSE_MAX:
        # polish: solve the score equations (no function values involved)
        with np.errstate(over="ignore", under="ignore"):
            rr = root(lambda t: fg(t)[1], x, jac=lambda t: hess(t).dense(), method="hybr", options={"xtol": 1e-14})
        if np.all(np.isfinite(rr.x)):
            f2, g2 = fg(rr.x)
            H2 = hess(rr.x)
            step2 = _newton_step(H2, g2, rr.x)
            if step2 < step and f2 <= f + 1e-9 * max(1.0, abs(f)):
                x, f, g, H, step = rr.x, f2, g2, H2, step2
                iterations += int(rr.nfev)
    try:
        vcov = np.linalg.inv(H.schur())
        pd = H.positive_definite()
    except np.linalg.LinAlgError:
        vcov, pd = np.full(H.C.shape, math.nan), False
    return Optimum(theta=x, vcov=vcov, loglik=-float(f), converged=pd and step <= xtol,
                   iterations=iterations, step=step, message=str(r.message))


def _newton_step(H: Arrow, g, x) -> float:
    try:
        return float(np.max(np.abs(H.solve(g)) / np.maximum(1.0, np.abs(x))))
    except np.linalg.LinAlgError:
        return math.inf
