"""Models: τ² estimators, inference, the inverse-variance kernel on arrays,
subgroups, the ``pool`` verb and its result values (metafor's ``rma.uni``).

Below :mod:`.pool` everything takes ``(y, v, X)`` arrays and returns plain
values: :func:`fit` is the kernel every analysis uses. :func:`metareg` fits
moderators (metafor's ``rma(yi, vi, mods = ~ …)``); ``mh``, ``peto`` and
``glmm`` hold the other pooling methods, ``batch`` the vectorised engine.
"""
from .batch import BatchResult, pool_many, pool_subsets
from .conventions import CONVENTIONS, Convention
from .inference import LEVEL, critical_value, p_value, wald_test
from .iv import METHODS, TESTS, IVFit, fit
from .metareg import MetaRegression, metareg
from .permutation import permutest
from .pool import pool
from .results import GroupEstimate, MetaResult, NaturalScale, Pooled, SubgroupTest
from .tau2 import TAU2_ESTIMATORS, Tau2CI, Tau2Fit, tau2_qprofile

__all__ = ["pool", "fit", "pool_many", "pool_subsets", "BatchResult", "metareg", "MetaRegression", "permutest", "CONVENTIONS", "Convention", "IVFit", "MetaResult", "Pooled", "GroupEstimate", "SubgroupTest", "NaturalScale",
           "METHODS", "TESTS", "LEVEL", "TAU2_ESTIMATORS", "Tau2CI", "Tau2Fit", "tau2_qprofile",
           "critical_value", "p_value", "wald_test"]
