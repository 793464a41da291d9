"""Figures: forest and funnel plots (matplotlib, loaded on first draw).

Plots take ``ax=None`` and never touch global state (rcParams, warning
filters, NumPy error settings).
"""
from .forest import STYLES, ForestPlot, ForestStyle, FunnelPlot, forest, funnel, save_figure

__all__ = ["forest", "funnel", "save_figure", "ForestPlot", "FunnelPlot", "ForestStyle", "STYLES"]
