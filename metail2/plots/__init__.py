"""Figures (matplotlib, loaded on first draw): forest, funnel, bubble,
Baujat, GOSH and sensitivity plots, the PRISMA 2020 flow diagram and the
risk-of-bias plots.

Modules: :mod:`.style` (``ForestStyle``, the ``STYLES`` presets, labels),
:mod:`._forest_rows`, :mod:`._forest_axis`, :mod:`._forest_columns` and
:mod:`._forest_layout` (the forest plot's layout as plain values, no figure),
:mod:`.forest` (drawing it; :mod:`._forestplot_engine` for
``engine="forestplot"``), :mod:`.funnel`, :mod:`.prisma`, :mod:`.rob`
(:mod:`._rob_data`), :mod:`.fonts` (font fallback, measured widths),
:mod:`.save` (``save_figure``).

Plots take ``ax=None`` and never touch global state (rcParams, warning
filters, NumPy error settings).
"""
from .baujat import BaujatPlot, baujat
from .bubble import BubblePlot, bubble
from .forest import ForestPlot, forest
from .funnel import FunnelPlot, funnel
from .gosh import GoshPlot, gosh_plot
from .prisma import PrismaPlot, prisma
from .rob import RobPlot, rob
from .save import save_figure
from .sensitivity import influence_plot, permutation_plot, refit_forest
from .style import STYLES, ForestStyle

__all__ = ["STYLES", "BaujatPlot", "BubblePlot", "ForestPlot", "ForestStyle", "FunnelPlot", "GoshPlot", "PrismaPlot",
           "RobPlot", "baujat", "bubble", "forest", "funnel", "gosh_plot", "prisma", "rob", "save_figure",
           "refit_forest", "influence_plot", "permutation_plot"]
