"""Themes: each figure on the hand-made hub in themes_data.py, worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from mash.reporting import themes
from mash.reporting.performance import Period
from tests.reporting import themes_data as data

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)


@pytest.fixture
def hub():
    return data.build()


def test_theme_totals_count_each_enquiry_once(hub):
    # cse: E1, E2, E3, E5 (E6 is before the period); missing: E1, E5 (A twice on E1? no:
    # once per enquiry); domestic abuse: E1 (D's decision); trafficking: E2.
    assert themes.theme_totals(data.PERIOD) == {
        "cse": 4,
        "missing": 2,
        "domestic_abuse": 1,
        "trafficking": 1,
    }


def test_enquiries_decided_and_with_a_theme(hub):
    # E1-E5 decided in the period; E4 has no theme.
    assert themes.enquiries_decided(data.PERIOD) == (5, 4)


def test_themes_by_month(hub):
    assert themes.themes_by_month(data.PERIOD) == {
        (JAN, "cse"): 1,  # E1
        (JAN, "missing"): 1,  # E1
        (JAN, "domestic_abuse"): 1,  # E1
        (FEB, "cse"): 1,  # E2
        (FEB, "trafficking"): 1,  # E2
        (MAR, "cse"): 2,  # E3, E5
        (MAR, "missing"): 1,  # E5
    }
    assert themes.months_of(data.PERIOD) == [JAN, FEB, MAR]


def test_the_month_is_the_london_month(hub):
    # A decision at 23:30 UTC on 31 July is 00:30 on 1 August in London (summer time).
    data.enquiry(hub, "S1", {"E": "NM1 4QT"}, data.at("2025-07-30"))
    data.decide(hub, "S1", "E", data.at("2025-07-31", "23:30"), ["fgm"])
    summer = Period(dt.date(2025, 7, 1), dt.date(2025, 8, 31))
    assert themes.themes_by_month(summer) == {(dt.date(2025, 8, 1), "fgm"): 1}


def test_age_bands_on_the_day_of_the_decision(hub):
    counts = themes.cohort(data.PERIOD, "age")
    # All decisions: A twice under 1, D unborn, B 9 (birthday the next day), C 16 (birthday
    # that day), E 13.
    everything = {band: n for (band, theme), n in counts.items() if theme == ""}
    assert everything == {"0": 2, "unborn": 1, "5-9": 1, "16-17": 1, "10-15": 1}
    themed = {key: n for key, n in counts.items() if key[1]}
    assert themed == {
        ("0", "cse"): 2,  # A on E1 and E5
        ("5-9", "cse"): 1,  # B
        ("16-17", "cse"): 1,  # C
        ("0", "missing"): 2,  # A on E1 and E5
        ("unborn", "domestic_abuse"): 1,  # D
        ("5-9", "trafficking"): 1,  # B
    }


def test_a_child_born_after_the_decision_counts_as_unborn_and_no_date_as_not_known(hub):
    hub.people["D"].date_of_birth = dt.date(2025, 2, 1)  # born since the decision in January
    hub.people["D"].expected_date_of_birth = None
    hub.people["D"].save()
    hub.people["E"].date_of_birth = None
    hub.people["E"].save()
    everything = {b: n for (b, t), n in themes.cohort(data.PERIOD, "age").items() if not t}
    assert everything == {"0": 2, "unborn": 1, "5-9": 1, "16-17": 1, "unknown": 1}


def test_sex_and_ethnicity(hub):
    sex = themes.cohort(data.PERIOD, "sex")
    assert {k: n for (k, t), n in sex.items() if not t} == {"M": 3, "F": 2, "U": 1}
    assert sex[("F", "trafficking")] == 1
    assert sex[("M", "cse")] == 3  # A twice and C
    ethnicity = themes.cohort(data.PERIOD, "ethnicity")
    assert {k: n for (k, t), n in ethnicity.items() if not t} == {
        "WBRI": 3,  # A twice, E
        "BAFR": 1,
        "AIND": 1,
        "NOBT": 1,
    }
    with pytest.raises(ValueError, match="names"):
        themes.cohort(data.PERIOD, "names")


def test_cohort_rows_carry_labels_in_the_lists_order(hub):
    present = themes.themes_present(themes.theme_totals(data.PERIOD))
    assert present == ["cse", "trafficking", "domestic_abuse", "missing"]
    _, categories = themes.COHORTS["ethnicity"]
    rows = themes.themed_count_rows(themes.cohort(data.PERIOD, "ethnicity"), categories, present)
    assert rows == [
        ["White: British", 3, 2, 0, 0, 2],
        ["Asian: Indian", 1, 1, 0, 0, 0],
        ["Black: African", 1, 1, 1, 0, 0],
        ["Information not yet obtained", 1, 0, 0, 1, 0],
    ]


def test_themes_that_occur_together(hub):
    # E1: A [cse, missing] and D [domestic_abuse] -> three pairs; E2: cse + trafficking;
    # E5: cse + missing again. E3 and E4 have fewer than two themes.
    # Ties in the order of the themes' names.
    assert themes.theme_pairs(data.PERIOD) == [
        ("cse", "missing", 2),
        ("cse", "domestic_abuse", 1),
        ("cse", "trafficking", 1),
        ("domestic_abuse", "missing", 1),
    ]


def test_an_empty_period_has_no_figures(hub):
    empty = Period(dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    assert themes.theme_totals(empty) == {}
    assert themes.theme_pairs(empty) == []
    assert themes.cohort(empty, "sex") == {}
    assert themes.by_district(empty) == []
