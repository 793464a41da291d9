"""Sensitivity analyses (PRISMA 2020 item 13f): does the pooled result hang on
one study, on the order of publication, on a subset, on chance?

Every analysis refits the intercept-only model many times, all at once on the
batch engine (:func:`metail2.models.batch.pool_many`), and takes a pooled
result (:class:`~metail2.models.results.MetaResult`: its studies, method, test
and level), effect sizes (:class:`~metail2.effects.EffectSizes`) or a pair of
arrays ``(yi, vi)``:

* :func:`leave1out` and :func:`cumulative` (metafor's ``leave1out``, ``cumul``)
  → :class:`RefitSeries`;
* :func:`influence` (``influence.rma.uni``) → :class:`Influence`;
* :func:`gosh` (``gosh``) → :class:`Gosh`;
* :func:`permutest` (``permutest``, intercept-only) → :class:`Permutation`.

Each value has ``to_dict()`` (the JSON of ``metail2 sensitivity``) and
``to_frame()``.
"""
from .gosh import Gosh, gosh
from .influence import Influence, influence
from .permutation import Permutation, permutest
from .refits import RefitSeries, cumulative, leave1out

__all__ = ["Gosh", "Influence", "Permutation", "RefitSeries", "cumulative", "gosh", "influence", "leave1out",
           "permutest"]
