"""Speed of pooling, side by side with peers measured in the same run.

1. One REML fit with the Hartung–Knapp test, prediction interval and Q-profile
   τ² CI for k = 10: metail2 vs metafor (via Rscript, rma + predict + confint,
   if R and metafor are installed), PyMARE (REML; Knapp–Hartung is its
   default, and its Q-profile τ² CI is timed too; it has no prediction
   interval) and statsmodels (combine_effects, Paule–Mandel "iterated"; no
   HK, no τ² CI), where installed.
2. `metail2 pool SHEET --json` as a whole process vs `python -c pass` and
   `python -c "import numpy, scipy.special"`.

Run: `make bench` (or `python benchmarks/bench_pool.py`). Prints medians.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import timeit
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]
SHEET = ROOT / "extraction" / "il2_crc_response.csv"
rng = np.random.default_rng(20261127)
YI = rng.normal(-0.5, 0.5, 10)
VI = rng.uniform(0.02, 0.3, 10)


def per_call(fn, number=200, repeat=9) -> float:
    fn()
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def bench_metail2() -> float:
    from metail2 import pool
    from metail2.effects import EffectSizes

    e = EffectSizes.from_arrays(YI, VI)
    return per_call(lambda: pool(e, method="REML", test="hk"))


def bench_metafor() -> str:
    if not shutil.which("Rscript"):
        return "Rscript not installed"
    y = ",".join(repr(float(x)) for x in YI)
    v = ",".join(repr(float(x)) for x in VI)
    code = textwrap.dedent(f"""
        suppressMessages(library(metafor)); yi <- c({y}); vi <- c({v})
        one <- function() {{ f <- rma(yi, vi, method="REML", test="knha"); predict(f); confint(f) }}
        two <- function() rma(yi, vi, method="REML", test="knha")
        t <- function(g, n=200) median(replicate(9, system.time(for (i in 1:n) g())[["elapsed"]] / n * 1e3))
        cat(t(one), t(two), "\\n")
    """)
    r = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True)
    if r.returncode:
        return "metafor not installed"
    full, fit = map(float, r.stdout.split())
    return f"{full:.3f} ms (rma alone {fit:.3f} ms)"


def bench_pymare() -> str:
    try:
        from pymare import Dataset
        from pymare.estimators import VarianceBasedLikelihoodEstimator
    except ImportError:
        return "not installed"
    ds = Dataset(y=YI[:, None], v=VI[:, None])

    def run():
        res = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(ds).summary()
        res.to_df()  # fixed-effect stats with its default Knapp–Hartung correction
        res.get_re_stats(method="QP")  # the Q-profile τ² CI
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f"{per_call(run, number=50):.3f} ms (REML + HK (its default) + Q-profile τ² CI; no PI)"


def bench_statsmodels() -> str:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return "not installed"
    run = lambda: combine_effects(YI, VI, method_re="iterated").summary_frame()  # noqa: E731
    return f"{per_call(run):.3f} ms (PM + DL, no HK, no τ² CI)"


def process(argv, n=15) -> float:
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def main() -> None:
    print("One pooling, k = 10, REML + Hartung-Knapp + PI + Q-profile tau2 CI (median per call)")
    print(f"  metail2      {bench_metail2():.3f} ms")
    print(f"  metafor      {bench_metafor()}")
    print(f"  PyMARE       {bench_pymare()}")
    print(f"  statsmodels  {bench_statsmodels()}")
    py = sys.executable
    print("Whole process (median of 15 runs)")
    base = process([py, "-c", "pass"])
    imports = process([py, "-c", "import numpy, scipy.special"])
    cli = process([py, "-m", "metail2", "pool", str(SHEET), "--measure", "PLO", "--by", "route", "--json"])
    print(f"  python -c pass                                   {base:.0f} ms")
    print(f"  python -c 'import numpy, scipy.special'          {imports:.0f} ms")
    print(f"  metail2 pool il2 --measure PLO --by route --json {cli:.0f} ms ({cli / imports:.2f}x the imports)")


if __name__ == "__main__":
    main()
