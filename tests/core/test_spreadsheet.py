"""The one guard against CSV injection, used by every CSV download."""

from __future__ import annotations

import pytest

from mash.core.spreadsheet import safe_cell


@pytest.mark.parametrize(
    "value",
    ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "|pipe", "%0A", "\tTab", "\rCR", " =lead"],
)
def test_a_cell_a_spreadsheet_could_run_is_made_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Amelia", "12", "Team not given", "Up 5 points"])
def test_an_ordinary_cell_is_left_alone(value):
    assert safe_cell(value) == value
