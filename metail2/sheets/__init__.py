"""Extraction sheets: the schema, format-preserving CSV, reading, checking,
writing, Excel round trips and dual-extraction reconciliation.

The layer below the effect sizes: it knows columns and cells, not formulas.
"""
from ._sheet import Row, Sheet, parse_sheet, rows_to_csv, write_sheet
from .check import FAMILIES, Excluded, SheetCheck, Source, check_sheet, group_problem
from .read import read_sheet
from .schema import COLUMNS, COUNT_BASES, INPUT_COLUMNS, codebook_markdown, parse_number

__all__ = ["Row", "Sheet", "SheetCheck", "Source", "Excluded", "read_sheet", "parse_sheet", "check_sheet",
           "write_sheet", "rows_to_csv", "group_problem", "codebook_markdown",
           "parse_number", "COLUMNS", "COUNT_BASES", "FAMILIES", "INPUT_COLUMNS"]
