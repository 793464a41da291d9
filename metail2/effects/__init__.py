"""Effect sizes: metafor's ``escalc`` stage.

``escalc(sheet, measure)`` → :class:`EffectSizes` (studies with ``yi``/``vi``,
and the rows excluded with their reasons). Measures and their
back-transformations live in :mod:`.measures`, one formula per input group in
:mod:`.formulas`.
"""
from .escalc import EffectSizes, StudyEffect, escalc
from .measures import MEASURES, Measure, get_measure, new_sheet_columns, study_ci, to_natural, transf_ipft_hm

__all__ = ["escalc", "EffectSizes", "StudyEffect", "Measure", "MEASURES", "get_measure", "new_sheet_columns", "to_natural",
           "transf_ipft_hm", "study_ci"]
