"""Cells for CSV files people open in a spreadsheet."""

from __future__ import annotations

# A cell starting with one of these may be run as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "|", "%")


def safe_cell(value: str) -> str:
    """Stops a spreadsheet from running a cell as a formula: such a cell gets a leading '."""
    if value and (value[0] in "\t\r\n" or value.lstrip()[:1] in FORMULA_STARTS):
        return "'" + value
    return value
