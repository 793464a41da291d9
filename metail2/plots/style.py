"""Styles and labels of the figures: :class:`ForestStyle`, the presets in
:data:`STYLES` (a RevMan 5-like default and a JAMA-like preset, as R meta's
``layout = "JAMA"``), the names the figures give the measures and methods,
and the number formats of each style. Plain values; no matplotlib.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..report.format import MINUS, number, p_jama, p_phrase


@dataclass(frozen=True)
class ForestStyle:
    """Fonts, sizes, colours and layout of a forest plot (all sizes in points
    unless named otherwise).

    ``layout`` is ``"revman"`` (data columns left, weight and estimate [CI]
    right) or ``"jama"`` (study and estimate (CI) left, no weights, nothing
    right); ``favours`` the word of the favours labels; ``p_format`` how
    p-values are written (``"p"``: "p = 0.012", ``"jama"``: "P = .01").
    """

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
    min_square: float = 10.0  # area (pt²) below which no square is drawn smaller (visible: 3.2 pt a side)
    header_rule: bool = True
    weight_column: bool = True
    layout: str = "revman"
    favours: str = "Favours"
    p_format: str = "p"
    study_head: str = "Study or subgroup"
    label_width_in: float = 2.2  # study labels wider than this wrap onto more lines

    def scaled(self, s: float) -> "ForestStyle":
        """Every size times ``s`` (areas times s²): how a figure is fitted into a smaller box."""
        if s == 1:
            return self
        return replace(self, fontsize=self.fontsize * s, small=self.small * s, row_height=self.row_height * s,
                       gap=self.gap * s, max_square=self.max_square * s * s, min_square=self.min_square * s * s,
                       plot_width_in=self.plot_width_in * s, label_width_in=self.label_width_in * s)

    def p(self, p) -> str:
        """A p-value in this style's words."""
        return p_jama(p) if self.p_format == "jama" else p_phrase(p)

    def ci(self, est, lo, hi, d: int | None = None) -> str:
        """An estimate with its CI: "0.76 [0.56, 0.89]" (RevMan) or "0.76 (0.56-0.89)" (JAMA; " to "
        when a bound is negative)."""
        d = self.decimals if d is None else d
        e, a, b = (number(x, d, minus=MINUS) for x in (est, lo, hi))
        if self.layout == "jama":
            sep = " to " if MINUS in a + b else "-"
            return f"{e} ({a}{sep}{b})"
        return f"{e} [{a}, {b}]"

    def interval(self, lo, hi, d: int | None = None) -> str:
        d = self.decimals if d is None else d
        a, b = number(lo, d, minus=MINUS), number(hi, d, minus=MINUS)
        if self.layout == "jama":
            return f"({a}{' to ' if MINUS in a + b else '-'}{b})"
        return f"[{a}, {b}]"


#: Styles by name: a RevMan 5-like default and a JAMA-like preset (R meta's JAMA layout).
STYLES = {
    "revman": ForestStyle(),
    "jama": ForestStyle(name="jama", fontsize=8.0, small=7.0, square_color="black", diamond_color="#1f5fa8",
                        row_height=12.0, plot_width_in=2.4, max_square=60.0, min_square=8.0, weight_column=False,
                        layout="jama", favours="Favors", p_format="jama", study_head="Source"),
}

#: What the figures call each measure (axis label, column heads).
MEASURE_LABEL = {"OR": "Odds ratio", "RR": "Risk ratio", "HR": "Hazard ratio", "RD": "Risk difference",
                 "MD": "Mean difference", "SMD": "Std. mean difference", "PR": "Proportion",
                 "PLO": "Proportion", "PFT": "Proportion"}
#: How proportions were transformed for pooling.
TRANSFORMATION = {"PR": "untransformed", "PLO": "logit", "PFT": "Freeman–Tukey"}
PROPORTIONS = tuple(TRANSFORMATION)
#: RevMan's names of the methods (``--convention revman5``).
_REVMAN = {"MH": "M-H, Fixed", "Peto": "Peto, Fixed", "FE": "IV, Fixed", "GLMM": "GLMM, Random"}


def measure_label(name: str) -> str:
    """The figure's name for a measure code ("RR" → "Risk ratio"); unknown codes as they are."""
    return MEASURE_LABEL.get(name, name)


def level_label(level: float) -> str:
    """"95% CI" for level 0.95 (every heading follows the result's level)."""
    return f"{100 * level:g}% CI"


def _counts_only(result) -> bool:
    return (result.measure.name in ("OR", "RR", "RD")
            and all(s.input == "two-arm counts" for s in result.effects.studies))


def model_label(result) -> str:
    """The method heading of a forest plot, naming the method, the model, the
    level and (for proportions) the transformation: "IV, random, REML, 95% CI";
    "M-H, common effect, 95% CI"; under ``--convention revman5`` RevMan's own
    words, "M-H, Random, 95% CI"; "… (HK)" under Hartung–Knapp; "…; metafor
    3.8" under the metafor convention."""
    m, lvl = result.method, level_label(getattr(result, "level", 0.95))
    conv = getattr(result, "convention", "metail2")
    if conv == "revman5":
        if m in _REVMAN:
            base = _REVMAN[m]
        elif m == "DL":
            base = "M-H, Random" if _counts_only(result) else "IV, Random"
        else:
            base = f"IV, Random ({m})"
    else:
        names = {"MH": "M-H, common effect", "Peto": "Peto, common effect", "FE": "IV, common effect",
                 "GLMM": "GLMM (ML), random"}
        base = names.get(m, f"IV, random, {m}")
    if result.measure.name in TRANSFORMATION:
        base += f", {TRANSFORMATION[result.measure.name]}"
    out = f"{base}, {lvl}"
    if str(result.test).startswith("hk"):
        out += " (HK)"
    if conv == "metafor":
        out += "; metafor 3.8"
    return out


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


__all__ = ["MEASURE_LABEL", "PROPORTIONS", "STYLES", "TRANSFORMATION", "ForestStyle", "level_label",
           "measure_label", "model_label", "resolve_style"]
