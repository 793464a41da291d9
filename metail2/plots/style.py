"""Styles and labels of the figures: :class:`ForestStyle`, the presets in
:data:`STYLES` (a RevMan 5-like default and a JAMA-like preset), and the
names the figures give the measures. Plain values; no matplotlib.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ForestStyle:
    """Fonts, sizes, colours and layout of a forest plot (all sizes in points
    unless named otherwise)."""

    name: str = "revman"
    font: str = "DejaVu Sans"
    fontsize: float = 8.0
    small: float = 7.0
    decimals: int = 2
    row_height: float = 13.0
    plot_width_in: float = 2.6
    gap: float = 10.0
    square_color: str = "#1f5fa8"
    diamond_color: str = "black"
    ci_color: str = "black"
    null_color: str = "#555555"
    pi_color: str = "#b2182b"
    max_square: float = 90.0  # area (pt²) of the heaviest study's square
    header_rule: bool = True
    weight_column: bool = True


#: Styles by name: a RevMan 5-like default and a JAMA-like preset.
STYLES = {
    "revman": ForestStyle(),
    "jama": ForestStyle(name="jama", fontsize=8.0, small=7.0, square_color="black", diamond_color="#1f5fa8",
                        row_height=12.0, plot_width_in=2.4, max_square=60.0),
}

#: What the figures call each measure (axis label, column heads).
MEASURE_LABEL = {"OR": "Odds ratio", "RR": "Risk ratio", "HR": "Hazard ratio", "RD": "Risk difference",
                 "MD": "Mean difference", "SMD": "Std. mean difference", "PR": "Proportion",
                 "PLO": "Proportion", "PFT": "Proportion"}


def measure_label(name: str) -> str:
    """The figure's name for a measure code ("RR" → "Risk ratio"); unknown codes as they are."""
    return MEASURE_LABEL.get(name, name)


def model_label(result) -> str:
    """The method heading of a forest plot: "IV, random, REML, 95% CI", "… (HK)"."""
    model = "IV, common effect" if result.method == "FE" else f"IV, random, {result.method}"
    return f"{model}, 95% CI" + (" (HK)" if result.test == "hk" else "")


def resolve_style(style: str | ForestStyle, *, decimals: int | None = None,
                  fontsize: float | None = None) -> ForestStyle:
    """A :class:`ForestStyle` from a preset name or a style, with ``decimals``
    and ``fontsize`` overriding its own (the small size follows ``fontsize − 1``)."""
    st = STYLES[style] if isinstance(style, str) else style
    if decimals is not None:
        st = replace(st, decimals=decimals)
    if fontsize is not None:
        st = replace(st, fontsize=fontsize, small=fontsize - 1)
    return st


__all__ = ["MEASURE_LABEL", "STYLES", "ForestStyle", "measure_label", "model_label", "resolve_style"]
