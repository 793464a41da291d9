"""Fonts of the figures: a fallback list per figure, text widths measured
with it, and a warning (once per character) for glyphs no installed font has.

A figure's text is set in the style's font (DejaVu Sans, matplotlib's own);
characters it lacks (李, ü is there) are looked up in the fonts matplotlib
knows and then in the system's font directories: matplotlib's font list is a
cache made when it was installed, so a CJK font installed later is otherwise
never used and its characters come out as boxes. A font found on disk is
registered with ``matplotlib.font_manager.fontManager.addfont`` (the
documented way to add a font file; no rcParams change). The family list ends
in the generic ``sans-serif``, which SVG files name as their last fallback.
PDFs embed every font used (TrueType, ``pdf.fonttype`` 42, in
:func:`~metail2.plots.save_figure`).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable

from ..errors import MetailWarning

GENERIC = "sans-serif"
_CHARMAPS: dict[str, frozenset[int]] = {}
_FAMILY_OF: dict[str, str | None] = {}  # character -> family holding it (None: no installed font)
_WARNED: set[str] = set()


def _charmap(path: str) -> frozenset[int]:
    if path not in _CHARMAPS:
        from matplotlib.ft2font import FT2Font

        try:
            _CHARMAPS[path] = frozenset(FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):
            _CHARMAPS[path] = frozenset()
    return _CHARMAPS[path]


def _font_path(family: str) -> str | None:
    from matplotlib.font_manager import FontProperties, findfont

    try:
        return findfont(FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return None


def _family_for(ch: str) -> str | None:
    """The family of a font holding ``ch``: a font matplotlib knows, else one
    on disk (registered with matplotlib then), else None."""
    if ch in _FAMILY_OF:
        return _FAMILY_OF[ch]
    from matplotlib.font_manager import findSystemFonts, fontManager

    code, found = ord(ch), None
    for entry in fontManager.ttflist:  # matplotlib's Last Resort font "has" every character: as a box
        if "last resort" not in entry.name.lower() and code in _charmap(entry.fname):
            found = entry.name
            break
    if found is None:
        known = {e.fname for e in fontManager.ttflist}
        for path in sorted(findSystemFonts()):
            if path not in known and path.lower().endswith((".ttf", ".otf")) and code in _charmap(path):
                fontManager.addfont(path)
                found = fontManager.ttflist[-1].name
                break
    _FAMILY_OF[ch] = found
    return found


def missing_characters(font: str, texts: Iterable[str]) -> list[str]:
    """Characters of ``texts`` the font ``font`` has no glyph for (sorted)."""
    path = _font_path(font)
    have = _charmap(path) if path else frozenset()
    chars = {c for t in texts for c in t if not c.isspace() and ord(c) >= 32}
    return sorted(c for c in chars if ord(c) not in have)


def font_families(font: str, texts: Iterable[str]) -> tuple[str, ...]:
    """The family list for a figure with these texts: ``font``, the fonts
    holding the characters it lacks, then ``sans-serif``. Warns
    (:class:`~metail2.errors.MetailWarning`, once per character in a
    process) about characters no installed font has."""
    extra: list[str] = []
    unfound = []
    for ch in missing_characters(font, texts):
        fam = _family_for(ch)
        if fam is None:
            unfound.append(ch)
        elif fam not in extra and fam != font:
            extra.append(fam)
    new = [c for c in unfound if c not in _WARNED]
    if new:
        _WARNED.update(new)
        names = ", ".join(f"{c} (U+{ord(c):04X})" for c in new[:8]) + (" …" if len(new) > 8 else "")
        warnings.warn(f"no installed font has a glyph for {names}: drawn as boxes; install a font that has "
                      "them (for Chinese, Japanese or Korean names e.g. Noto Sans CJK)", MetailWarning,
                      stacklevel=3)
    return (font, *extra, GENERIC)


def metrics_width(families: str | tuple[str, ...]):
    """``text_width(text, size, bold=False, italic=False) -> points`` from the
    fonts' metrics (matplotlib's TextToPath, loaded on the first call; no
    figure or renderer). Multi-line texts: the widest line."""
    fams = [families] if isinstance(families, str) else list(families)
    cache: dict[tuple, float] = {}

    def width(s: str, size: float, bold: bool = False, italic: bool = False) -> float:
        if not s:
            return 0.0
        if "\n" in s:
            return max(width(line, size, bold, italic) for line in s.split("\n"))
        key = (s, size, bold, italic)
        if key not in cache:
            from matplotlib.font_manager import FontProperties
            from matplotlib.textpath import TextToPath

            prop = FontProperties(family=fams, size=size, weight="bold" if bold else "normal",
                                  style="italic" if italic else "normal")
            with warnings.catch_warnings():  # a missing glyph was already reported by font_families
                warnings.filterwarnings("ignore", "Glyph .* missing", UserWarning)
                cache[key] = TextToPath().get_text_width_height_descent(s, prop, ismath=False)[0]
        return cache[key]

    return width


def wrap(text: str, width: float, measure, *, indent: str = "", subsequent: str = "") -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` points as
    ``measure(line) -> points`` measures them (a word wider than a line is
    broken between characters); ``indent`` starts the first line,
    ``subsequent`` the others."""
    lines: list[str] = []
    line = indent
    for word in text.split():
        trial = line + (" " if line.strip() else "") + word
        if measure(trial) <= width:
            line = trial
            continue
        if line.strip():
            lines.append(line)
            line = subsequent
        while measure(line + word) > width and len(word) > 1:  # a word too long for a line: break it
            cut = len(word) - 1
            while cut > 1 and measure(line + word[:cut]) > width:
                cut -= 1
            lines.append(line + word[:cut])
            line, word = subsequent, word[cut:]
        line += word
    if line.strip():
        lines.append(line)
    return lines


__all__ = ["GENERIC", "font_families", "metrics_width", "missing_characters", "wrap"]
