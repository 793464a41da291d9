"""Risk-of-bias judgements as plain values: the two tools (RoB 2 and
ROBINS-I), their domains, the sheet columns holding them (schema:
``rob_d1`` … ``rob_overall``, ``robins_d1`` … ``robins_overall``), and the
colours and symbols robvis uses (symbols as well as colours, so the figures
read in grey and by colour-blind readers)."""
from __future__ import annotations

from dataclasses import dataclass

from ..sheets.schema import ROB2, ROBINS_I

#: judgement -> (symbol, colour, legend text), robvis's palette
JUDGEMENTS = {
    "low": ("+", "#02C100", "Low"),
    "some concerns": ("−", "#E2DF07", "Some concerns"),
    "moderate": ("−", "#E2DF07", "Moderate"),
    "high": ("×", "#BF0000", "High"),
    "serious": ("×", "#BF0000", "Serious"),
    "critical": ("!", "#820000", "Critical"),
    "no information": ("?", "#4EA1F7", "No information"),
}


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool: its name, the sheet columns (domains, then overall),
    the short heads ("D1" … "Overall"), the domains' names and the judgements in order."""

    name: str
    key: str
    columns: tuple[str, ...]
    heads: tuple[str, ...]
    domains: tuple[str, ...]
    levels: tuple[str, ...]


TOOLS = {
    "rob2": RobTool("RoB 2", "rob2", tuple(f"rob_d{i}" for i in range(1, 6)) + ("rob_overall",),
                    tuple(f"D{i}" for i in range(1, 6)) + ("Overall",),
                    ("Randomization process", "Deviations from intended interventions", "Missing outcome data",
                     "Measurement of the outcome", "Selection of the reported result"), ROB2),
    "robins": RobTool("ROBINS-I", "robins", tuple(f"robins_d{i}" for i in range(1, 8)) + ("robins_overall",),
                      tuple(f"D{i}" for i in range(1, 8)) + ("Overall",),
                      ("Confounding", "Selection of participants", "Classification of interventions",
                       "Deviations from intended interventions", "Missing data", "Measurement of outcomes",
                       "Selection of the reported result"), ROBINS_I),
}


def detect_tool(columns, tool: str | None = None) -> RobTool | None:
    """The tool named (``"rob2"``, ``"robins"``) or the one whose columns the
    sheet has (RoB 2 first); None when the sheet has neither."""
    if tool is not None:
        key = tool.lower().replace("-", "").replace(" ", "")
        key = {"rob2": "rob2", "robins": "robins", "robinsi": "robins"}.get(key)
        if key is None:
            raise ValueError(f"unknown risk-of-bias tool {tool!r}; choose rob2 or robins")
        return TOOLS[key]
    cols = set(columns)
    for t in TOOLS.values():
        if cols & set(t.columns):
            return t
    return None


def judgements(row, tool: RobTool) -> tuple[str, ...]:
    """A sheet row's judgements in the tool's column order ('' where not given)."""
    return tuple(row.text(c).lower() for c in tool.columns)


def legend_text(tool: RobTool) -> str:
    """One line naming the domains and the symbols, for a figure's notes."""
    domains = "; ".join(f"D{i} {d.lower()}" for i, d in enumerate(tool.domains, 1))
    marks = ", ".join(f"{JUDGEMENTS[j][0]} {JUDGEMENTS[j][2].lower()}" for j in tool.levels)
    return f"Risk of bias ({tool.name}): {domains}. {marks}."


__all__ = ["JUDGEMENTS", "TOOLS", "RobTool", "detect_tool", "judgements", "legend_text"]
