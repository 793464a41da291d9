"""The batch engine and the sensitivity analyses, side by side with peers, in one run.

(a) 100,000 independent k = 10 REML meta-analyses: metail2 ``pool_many`` vs a
    loop of metail2's scalar ``fit`` and of ``pool``, PyMARE batched (its
    default Knapp–Hartung test; its Q-profile τ² CI timed too), and metafor
    (a loop of ``rma`` in Rscript).
(b) GOSH, k = 16 (65,535 fits), DL and REML: metail2 ``gosh`` vs metafor ``gosh()``.
(c) Exact permutation test, k = 13 (8,192 REML fits): metail2 ``permutest`` vs
    PyMARE ``permutation_test`` and metafor ``permutest(exact = TRUE)``.
(d) Leave-one-out, k = 100: metail2 ``leave1out`` vs a loop of ``fit`` and metafor ``leave1out``.

Slow peers run on a sample of the work and are reported as rates (analyses/s)
with the time the whole task would take, labelled "est."; the sample size is
printed. Peak memory is Python's tracemalloc peak (NumPy's arrays included)
for the in-process runs. Ratios are metail2 batch ÷ peer, in analyses/s. The
R side is skipped, with a message, when Rscript or metafor is missing.

Run: ``python benchmarks/bench_batch.py [--quick]`` (``make bench``).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings

import numpy as np

warnings.simplefilter("ignore")
RNG = np.random.default_rng(20261129)


def timed(fn, repeat: int = 1, memory: bool = True):
    """(best wall time in s, tracemalloc peak in MB or None, the result).
    Timings run untraced (tracemalloc slows Python code); the peak comes from
    one more, traced, run."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    peak = None
    if memory:
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return best, peak, out


def row(name: str, n: int, seconds: float, peak: float | None = None, ref: float | None = None,
        sample: int | None = None, total: int | None = None) -> float:
    rate = n / seconds
    whole = f"{(total or n) / rate:9.3f} s" + (" est." if sample else "     ")
    mem = f"{peak:8.1f} MB" if peak is not None else " " * 11
    ratio = f"{ref / rate:9.1f}×" if ref else " " * 10
    note = f"  (timed on {sample:,})" if sample else ""
    print(f"  {name:<58} {rate:>13,.0f}/s {whole} {mem} {ratio}{note}")
    return rate


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'':<58} {'analyses/s':>15} {'time':>11} {'peak mem':>11} {'metail2 ÷':>10}")


# --------------------------------------------------------------------------- R

def r_available() -> str | None:
    if not shutil.which("Rscript"):
        return "Rscript not found: the metafor side is skipped"
    r = subprocess.run(["Rscript", "-e", "suppressMessages(library(metafor)); cat(as.character(packageVersion('metafor')))"],
                       check=False, capture_output=True, text=True)
    return None if r.returncode == 0 else "metafor not installed in R: the metafor side is skipped"


def rscript(code: str, values: int = 1):
    """Run R code that cats numbers (the last one seconds) and return it (or the last ``values``)."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(textwrap.dedent(code))
    try:
        r = subprocess.run(["Rscript", fh.name], check=False, capture_output=True, text=True)
    finally:
        os.unlink(fh.name)
    if r.returncode:
        raise RuntimeError(r.stderr.strip()[-400:])
    out = [float(x) for x in r.stdout.split()[-values:]]
    return out[0] if values == 1 else out


def r_vec(a) -> str:
    return "c(" + ",".join(repr(float(x)) for x in np.ravel(a)) + ")"


# --------------------------------------------------------------------------- (a)

def bench_many(n: int, r_note: str | None, quick: bool) -> None:
    from metail2.effects import EffectSizes
    from metail2.models import pool
    from metail2.models.batch import pool_many
    from metail2.models.iv import fit

    k = 10
    y = RNG.normal(-0.5, 0.5, (k, n))
    v = RNG.uniform(0.02, 0.3, (k, n))
    header(f"(a) {n:,} independent meta-analyses, k = {k}, REML")
    pool_many(y[:, :100], v[:, :100])
    t, mem, b = timed(lambda: pool_many(y, v, method="REML"), 5)
    ref = row("metail2 pool_many: REML, z", n, t, mem)
    t, mem, _ = timed(lambda: pool_many(y, v, method="REML", test="hk"), 5)
    row("metail2 pool_many: REML, Hartung–Knapp", n, t, mem)
    t, mem, _ = timed(lambda: pool_many(y, v, method="REML", test="hk", tau2_ci=True))
    row("metail2 pool_many: REML, HK, Q-profile τ² CI", n, t, mem)
    cpu = time.process_time()
    pool_many(y, v, method="REML")
    cpu = time.process_time() - cpu
    print(f"  {'  (CPU time of one REML, z run: ' + f'{n / cpu:,.0f} analyses per CPU-second)':<58}")
    m = 300 if quick else 2000
    t, _, _ = timed(lambda: [fit(y[:, j], v[:, j], None, "REML", "z", tau2_ci=False) for j in range(m)], memory=False)
    row("metail2 loop of fit(): REML, z, no τ² CI", m, t, None, ref, m, n)
    es = [EffectSizes.from_arrays(y[:, j], v[:, j]) for j in range(m)]
    t, _, _ = timed(lambda: [pool(e, method="REML", test="hk") for e in es], memory=False)
    row("metail2 loop of pool(): REML, HK, PI, Q-profile τ² CI", m, t, None, ref, m, n)
    try:
        import pymare
        from pymare import Dataset
        from pymare.estimators import VarianceBasedLikelihoodEstimator
    except ImportError:
        print("  PyMARE: not installed (pip install pymare)")
    else:
        mp = n if not quick else 20000

        def run_pymare(cols):
            est = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(Dataset(y=y[:, :cols], v=v[:, :cols]))
            res = est.summary()
            res.get_fe_stats()
            return res

        t, mem, res = timed(lambda: run_pymare(mp))
        row(f"PyMARE {pymare.__version__} batched: REML, KH (its default)", mp, t, mem, ref, None if mp == n else mp, n)
        diff = np.abs(np.asarray(res.tau2).ravel() - b.tau2[:mp])
        print(f"  {'  (PyMARE τ² vs metail2: max |Δ| ' + f'{diff.max():.1e})':<58}")
        mq = 100 if quick else 300
        small = run_pymare(mq)
        t, _, _ = timed(lambda: small.get_re_stats(), memory=False)
        row(f"PyMARE {pymare.__version__}: its Q-profile τ² CI (get_re_stats)", mq, t, None, ref, mq, n)
    if r_note:
        print(f"  metafor: {r_note}")
        return
    mr = 300 if quick else 2000
    sec = rscript(f"""
        suppressMessages(library(metafor)); k <- {k}; m <- {mr}
        y <- matrix({r_vec(y[:, :mr].T)}, ncol = k, byrow = TRUE); v <- matrix({r_vec(v[:, :mr].T)}, ncol = k, byrow = TRUE)
        failed <- 0
        t <- system.time(for (j in 1:m) if (inherits(try(rma(y[j, ], v[j, ], method = "REML"), silent = TRUE),
                                                    "try-error")) failed <- failed + 1)[["elapsed"]]
        cat(failed, t)""", values=2)
    row("metafor 3.8 loop of rma(): REML, z", mr, sec[1], None, ref, mr, n)
    print(f"  {'  (metafor: Fisher scoring failed to converge on ' + f'{int(sec[0])} of {mr:,})':<58}")


# --------------------------------------------------------------------------- (b), (c), (d)

def bench_gosh(r_note: str | None, quick: bool) -> None:
    from metail2.sensitivity import gosh

    k = 16
    y = RNG.normal(-0.5, 0.5, k)
    v = RNG.uniform(0.02, 0.3, k)
    n = (1 << k) - 1
    header(f"(b) GOSH, k = {k}: all {n:,} subsets")
    for method in ("DL", "REML"):
        t, mem, _ = timed(lambda method=method: gosh((y, v), method=method), 2)
        ref = row(f"metail2 gosh(): {method}", n, t, mem)
        if r_note:
            print(f"  metafor: {r_note}")
            continue
        ms = 2000 if method == "REML" else n
        if quick:
            ms = min(ms, 500)
        sub = "" if ms == n else f", subsets = {ms}"
        sec = rscript(f"""
            suppressMessages(library(metafor)); f <- rma({r_vec(y)}, {r_vec(v)}, method = "{method}")
            cat(system.time(gosh(f, progbar = FALSE{sub}))[["elapsed"]])""")
        row(f"metafor 3.8 gosh(): {method}" + ("" if ms == n else " (random subsets)"), ms, sec, None, ref,
            None if ms == n else ms, n)


def bench_permutation(r_note: str | None, quick: bool) -> None:
    from metail2.sensitivity import permutest

    k = 13
    y = RNG.normal(-0.5, 0.5, k)
    v = RNG.uniform(0.02, 0.3, k)
    n = 1 << k
    header(f"(c) exact permutation test, k = {k}: {n:,} REML fits")
    t, mem, p = timed(lambda: permutest((y, v), method="REML"), 3)
    ref = row("metail2 permutest(): REML, z, exact", n, t, mem)
    try:
        import pymare
        from pymare import Dataset
        from pymare.estimators import VarianceBasedLikelihoodEstimator
    except ImportError:
        print("  PyMARE: not installed")
    else:
        res = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(Dataset(y=y, v=v)).summary()
        mp = 1000 if quick else n
        t, _, _ = timed(lambda: res.permutation_test(n_perm=mp), memory=False)
        row(f"PyMARE {pymare.__version__} permutation_test(): REML, KH" + (" (random)" if mp < n else ", exact"),
            mp, t, None, ref, None if mp == n else mp, n)
    if r_note:
        print(f"  metafor: {r_note}")
        return
    mr = 100 if quick else 500
    sec = rscript(f"""
        suppressMessages(library(metafor)); f <- rma({r_vec(y)}, {r_vec(v)}, method = "REML")
        set.seed(1); cat(system.time(permutest(f, iter = {mr}, progbar = FALSE))[["elapsed"]])""")
    row("metafor 3.8 permutest(): REML (random sign flips)", mr, sec, None, ref, mr, n)
    print(f"  {'  (metail2 p = ' + f'{p.p:.6f})':<58}")


def bench_leave1out(r_note: str | None) -> None:
    from metail2.models.iv import fit
    from metail2.sensitivity import leave1out

    k = 100
    y = RNG.normal(-0.5, 0.5, k)
    v = RNG.uniform(0.02, 0.3, k)
    header(f"(d) leave-one-out, k = {k}: {k} REML fits")
    t, mem, _ = timed(lambda: leave1out((y, v)), 5)
    ref = row("metail2 leave1out()", k, t, mem)
    t, mem, _ = timed(lambda: [fit(np.delete(y, i), np.delete(v, i), None, "REML", tau2_ci=False) for i in range(k)], 3,
                      memory=False)
    row("metail2 loop of fit()", k, t, mem, ref)
    if r_note:
        print(f"  metafor: {r_note}")
        return
    sec = rscript(f"""
        suppressMessages(library(metafor)); f <- rma({r_vec(y)}, {r_vec(v)}, method = "REML")
        cat(system.time(leave1out(f))[["elapsed"]])""")
    row("metafor 3.8 leave1out()", k, sec, None, ref)


def bench_dask(n: int) -> None:
    """The Dask path on a LocalCluster of two single-threaded worker processes
    (one per core): an estimator simulation (n meta-analyses of k = 10, drawn on
    the workers) and a sampled GOSH at k = 30, against the same work in-process."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    from metail2.models.batch import pool_many
    from metail2.sensitivity import gosh

    k, chunk = 10, 50_000
    rng = da.random.default_rng(7)
    y = rng.normal(0.2, 0.4, size=(k, n), chunks=(k, chunk))
    v = da.random.default_rng(8).uniform(0.01, 0.2, size=(k, n), chunks=(k, chunk))
    yk = RNG.normal(-0.3, 0.5, 30)
    vk = RNG.uniform(0.02, 0.3, 30)
    header(f"(e) Dask, LocalCluster of 2 worker processes × 1 thread: simulation of {n:,} REML analyses (k = {k}); "
           f"GOSH k = 30, 1,000,000 random subsets")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pool_many(y[:, :1000], v[:, :1000], method="REML")          # warm the workers
        t, _, _ = timed(lambda: pool_many(y, v, method="REML"), memory=False)
        sim = row("metail2 pool_many on Dask (2 workers)", n, t)
        t, _, _ = timed(lambda: gosh((yk, vk), subsets=1_000_000, seed=1, method="REML", scheduler=client,
                                     chunk=chunk), memory=False)
        gd = row("metail2 gosh(k = 30, 10^6 subsets) on Dask (2 workers)", 1_000_000, t)
    ys, vs = y[:, :200_000].compute(), v[:, :200_000].compute()
    t, _, _ = timed(lambda: pool_many(ys, vs, method="REML"), memory=False)
    one = row("metail2 pool_many in-process (one core)", 200_000, t, None, None, 200_000, n)
    t, _, _ = timed(lambda: gosh((yk, vk), subsets=200_000, seed=1, method="REML"), memory=False)
    g1 = row("metail2 gosh(k = 30) in-process (one core)", 200_000, t, None, None, 200_000, 1_000_000)
    print(f"  per core on Dask: simulation {sim / 2:,.0f}/s ({sim / 2 / one:.2f} of in-process), "
          f"GOSH {gd / 2:,.0f}/s ({gd / 2 / g1:.2f}); the rest is the scheduler, transfers and other load")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples of the slow peers")
    ap.add_argument("--n", type=int, default=100_000, help="analyses in (a)")
    ap.add_argument("--dask", type=int, nargs="?", const=2_000_000, metavar="N",
                    help="also (e): the Dask path on a 2-worker LocalCluster (N simulated analyses, default 2,000,000)")
    args = ap.parse_args()
    import numpy

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"metail2 batch benchmarks — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, NumPy {numpy.__version__}; load average {load[0]:.2f}")
    r_note = r_available()
    print(r_note or "metafor via Rscript: available")
    bench_many(args.n, r_note, args.quick)
    bench_gosh(r_note, args.quick)
    bench_permutation(r_note, args.quick)
    bench_leave1out(r_note)
    if args.dask:
        bench_dask(args.dask)
    print("\nTargets (issue 12): ≥ 100,000 REML analyses/s on one core at k = 10; GOSH k = 16 REML < 1 s; "
          "exact permutation k = 13 < 0.5 s.")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
