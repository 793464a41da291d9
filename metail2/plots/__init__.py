"""Figures: forest and funnel plots (matplotlib, loaded on first draw).

Modules: :mod:`.style` (``ForestStyle``, the ``STYLES`` presets, labels),
:mod:`._forest_layout` (the forest plot's layout as plain values, no figure;
its table's content per input group in :mod:`._forest_columns`),
:mod:`.forest` (drawing it), :mod:`.funnel`, :mod:`.save` (``save_figure``).

Plots take ``ax=None`` and never touch global state (rcParams, warning
filters, NumPy error settings).
"""
from .bubble import BubblePlot, bubble
from .forest import ForestPlot, forest
from .funnel import FunnelPlot, funnel
from .save import save_figure
from .style import STYLES, ForestStyle

__all__ = ["forest", "funnel", "bubble", "BubblePlot", "save_figure", "ForestPlot", "FunnelPlot", "ForestStyle", "STYLES"]
