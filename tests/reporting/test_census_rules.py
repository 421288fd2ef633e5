"""The DfE's validation rules for the census items the hub writes: each rule, by its number,
on a child built by hand (no database), passing and failing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from mash.reporting import census
from mash.reporting.census import CensusChild, CensusYear, Episode, Severity

YEAR = CensusYear(2026)  # 1 April 2025 to 31 March 2026
D = dt.date


def episode(**kw: object) -> Episode:
    values: dict[str, object] = {
        "referral_date": D(2025, 6, 2),
        "referral_source": "2A",
        "primary_need": "N1",
        "contact_id": 1,
        "decision_ids": (1,),
    }
    values.update(kw)
    return Episode(**values)  # type: ignore[arg-type]


def child(**kw: object) -> CensusChild:
    values: dict[str, object] = {
        "person_id": 12,
        "name": "Amelia Hart",
        "la_child_id": "P00000012",
        "upn": "H801200001001",
        "birth_date": D(2018, 5, 4),
        "expected_birth_date": None,
        "sex": "F",
        "ethnicity": "WBRI",
        "disabilities": ("NONE",),
        "episodes": [episode()],
    }
    values.update(kw)
    return CensusChild(**values)  # type: ignore[arg-type]


def rules_broken(c: CensusChild) -> set[str]:
    return {f.rule for f in census.check_child(c, YEAR) if f.severity != Severity.NOTE}


def errors(c: CensusChild) -> set[str]:
    return {f.rule for f in census.check_child(c, YEAR) if f.severity == Severity.ERROR}


def test_a_complete_child_breaks_no_rule():
    assert rules_broken(child()) == set()


def test_every_rule_has_the_dfe_message_and_a_severity():
    for number, rule in census.RULES.items():
        assert rule.number == number
        assert rule.message
        assert rule.severity in (Severity.ERROR, Severity.QUERY)
        # The DfE's queries end in Q; its errors do not.
        if number[0].isdigit():
            assert number.endswith("Q") == (rule.severity == Severity.QUERY), number


# --- Child identifiers ------------------------------------------------------------------------


def test_8500_la_child_id_missing():
    assert "8500" in errors(child(la_child_id=""))


def test_1570_la_child_id_at_most_20_characters():
    assert "1570" not in errors(child(la_child_id="P" * 20))
    assert "1570" in errors(child(la_child_id="P" * 21))


def test_1580_la_child_id_letters_and_digits_only():
    assert "1580" in errors(child(la_child_id="P-0001"))
    assert "1580" in errors(child(la_child_id="P<&>1"))


def test_la_child_id_is_stable_short_and_alphanumeric():
    assert census.la_child_id(12) == "P00000012"
    assert census.la_child_id(123_456_789_012) == "P123456789012"
    ids = [census.la_child_id(n) for n in (1, 99_999_999, 10**18)]
    assert all(len(i) <= 20 and i.isalnum() for i in ids)


@pytest.mark.parametrize(
    ("upn", "rules"),
    [
        ("H801200001001", []),  # valid
        ("A801200001001", ["1510"]),  # wrong check letter
        ("H999200001001", ["1530"]),  # 999 is no LA code
        ("H8012000A1001", ["1540"]),  # characters 5-12 not all digits
        ("H80120000100I", ["1550"]),  # I is not a recognised 13th character
        ("H80120000100", ["UPN"]),  # 12 characters
    ],
)
def test_upn_rules(upn, rules):
    assert census.upn_problems(upn) == rules
    broken = errors(child(upn=upn))
    for rule in rules:
        assert rule in broken


def test_upn_check_letter_matches_python_stdnum():
    from stdnum.gb import upn as stdnum_upn

    for body in ("801200001001", "801200001002", "30112345678A", "93500000000Z"):
        letter = stdnum_upn.calc_check_digit(body)
        assert census.upn_problems(letter + body) == []


def test_upn_pseudo_la_codes_of_rule_1530_are_accepted():
    assert {"001", "681", "881"} <= census.UPN_LA_CODES
    assert not {"999", "000"} & census.UPN_LA_CODES


def test_8525_date_of_birth_or_expected_date_but_not_both():
    assert "8525" in errors(child(birth_date=None, expected_birth_date=None))
    assert "8525" in errors(child(expected_birth_date=D(2026, 5, 1)))
    unborn = child(birth_date=None, expected_birth_date=D(2026, 5, 1), sex="U", disabilities=())
    assert "8525" not in errors(unborn)


def test_8520_date_of_birth_after_the_census_period():
    assert "8520" in errors(child(birth_date=D(2026, 4, 1)))
    assert "8520" not in errors(child(birth_date=D(2026, 3, 31)))


def test_8530q_expected_date_of_birth_range():
    def unborn(expected: dt.date) -> CensusChild:
        return child(
            birth_date=None,
            expected_birth_date=expected,
            sex="U",
            disabilities=(),
            episodes=[episode(referral_date=D(2026, 1, 5))],
        )

    assert "8530Q" not in rules_broken(unborn(D(2026, 3, 1)))  # 30 days before
    assert "8530Q" in rules_broken(unborn(D(2026, 2, 28)))
    assert "8530Q" not in rules_broken(unborn(D(2026, 12, 31)))  # 9 months after
    assert "8530Q" in rules_broken(unborn(D(2027, 1, 1)))


def test_4180_sex_must_be_m_f_or_u():
    for sex in ("M", "F", "U"):
        assert "4180" not in errors(child(sex=sex))
    for sex in ("", "X", "1", "f"):
        assert "4180" in errors(child(sex=sex))


def test_8750_unborn_child_sex_must_be_u():
    unborn = child(birth_date=None, expected_birth_date=D(2026, 5, 1), disabilities=())
    assert "8750" in errors(dataclasses.replace(unborn, sex="F"))
    assert "8750" not in errors(dataclasses.replace(unborn, sex="U"))


def test_8770q_school_age_child_with_no_upn():
    assert "8770Q" in rules_broken(child(upn="", birth_date=D(2022, 8, 31)))
    assert "8770Q" not in rules_broken(child(upn="", birth_date=D(2022, 9, 1)))
    assert "8770Q" not in rules_broken(child(birth_date=D(2010, 1, 1)))


def test_8775q_child_over_25():
    assert "8775Q" in rules_broken(child(birth_date=D(2000, 1, 1)))
    assert "8775Q" not in rules_broken(child(birth_date=D(2002, 1, 1)))


# --- Characteristics --------------------------------------------------------------------------


def test_4220_ethnicity_must_be_a_census_code():
    assert "4220" in errors(child(ethnicity=""))
    assert "4220" in errors(child(ethnicity="WHIT"))
    assert "4220" not in errors(child(ethnicity="NOBT"))


def test_8540_born_child_needs_a_valid_disability():
    assert "8540" in errors(child(disabilities=()))
    assert "8540" in errors(child(disabilities=("BLUE",)))
    unborn = child(birth_date=None, expected_birth_date=D(2026, 5, 1), sex="U", disabilities=())
    assert "8540" not in errors(unborn)


def test_8790_none_with_another_disability():
    assert "8790" in errors(child(disabilities=("NONE", "MOB")))


def test_8794_same_disability_twice():
    assert "8794" in errors(child(disabilities=("MOB", "MOB")))
    assert "8794" not in errors(child(disabilities=("MOB", "VIS")))


# --- CIN details --------------------------------------------------------------------------------


def test_8590_child_with_no_episode():
    assert "8590" in errors(child(episodes=[]))


def test_8606_referral_more_than_40_weeks_before_birth():
    early = child(
        birth_date=None,
        expected_birth_date=D(2026, 5, 1),
        sex="U",
        disabilities=(),
        episodes=[episode(referral_date=D(2025, 7, 24))],  # 281 days before
    )
    assert "8606" in errors(early)
    assert "8606" not in errors(
        dataclasses.replace(early, episodes=[episode(referral_date=D(2025, 7, 25))])
    )


def test_8866_referral_source_missing_or_invalid():
    assert "8866" in errors(child(episodes=[episode(referral_source="")]))
    assert "8866" in errors(child(episodes=[episode(referral_source="11")]))
    assert "8866" not in errors(child(episodes=[episode(referral_source="5D")]))


def test_8610_primary_need_missing():
    assert "8610" in errors(child(episodes=[episode(primary_need="")]))


def test_8650_primary_need_invalid():
    assert "8650" in errors(child(episodes=[episode(primary_need="N10")]))
    assert "8650" not in errors(child(episodes=[episode(primary_need="N0")]))


def test_8568_referral_nfa_must_be_true_or_false():
    assert "8568" in errors(child(episodes=[episode(referral_nfa=None)]))


def closed(**kw: object) -> Episode:
    values: dict[str, object] = {
        "referral_date": D(2025, 5, 1),
        "closure_date": D(2025, 9, 15),
        "closure_reason": "RC7",
    }
    values.update(kw)
    return episode(**values)


def test_8620_closure_date_within_the_year():
    assert "8620" in errors(child(episodes=[closed(closure_date=D(2026, 4, 1))]))
    assert "8620" not in errors(child(episodes=[closed()]))


def test_8630_closure_before_referral():
    assert "8630" in errors(child(episodes=[closed(closure_date=D(2025, 4, 30))]))


def test_8640_reason_for_closure_code():
    assert "8640" in errors(child(episodes=[closed(closure_reason="RC10")]))


def test_8805_closure_date_without_reason():
    assert "8805" in errors(child(episodes=[closed(closure_reason="")]))


def test_8810_reason_without_closure_date():
    assert "8810" in errors(child(episodes=[episode(closure_reason="RC7")]))


def test_8565_section_47_after_the_episode_closed():
    assert "8565" in errors(child(episodes=[closed(s47_start=D(2025, 9, 16))]))
    assert "8565" not in errors(child(episodes=[closed(s47_start=D(2025, 9, 15))]))


def test_8815_8816_8820_two_open_episodes():
    broken = errors(
        child(episodes=[episode(referral_date=D(2025, 5, 1)), episode(referral_date=D(2025, 9, 1))])
    )
    assert {"8815", "8816", "8820"} <= broken


def test_8820_an_episode_may_close_the_day_the_next_begins():
    ok = [closed(closure_date=D(2025, 9, 15)), episode(referral_date=D(2025, 9, 15))]
    assert not {"8815", "8816", "8820"} & errors(child(episodes=ok))
    overlapping = [closed(closure_date=D(2025, 9, 16)), episode(referral_date=D(2025, 9, 15))]
    assert "8820" in errors(child(episodes=overlapping))


def test_8820_two_referrals_on_one_day_overlap():
    same_day = [
        closed(referral_date=D(2025, 9, 15), closure_date=D(2025, 9, 15)),
        episode(referral_date=D(2025, 9, 15)),
    ]
    assert "8820" in errors(child(episodes=same_day))


# --- Section 47 --------------------------------------------------------------------------------


def test_2889_section_47_before_the_referral():
    assert "2889" in errors(child(episodes=[episode(s47_start=D(2025, 6, 1))]))
    assert "2889" not in errors(child(episodes=[episode(s47_start=D(2025, 6, 2))]))


def test_8740_open_section_47_must_start_in_the_year():
    assert "8740" in errors(child(episodes=[episode(s47_start=D(2026, 4, 1))]))
    ok = child(episodes=[episode(s47_start=D(2026, 4, 1), icpc_not_required=True)])
    assert "8740" not in errors(ok)


def test_8675q_section_47_more_than_15_working_days_before_year_end():
    # 31 March 2026 is a Tuesday; Good Friday is 3 April 2026, after the year end.
    assert "8675Q" not in rules_broken(
        child(episodes=[episode(referral_date=D(2026, 3, 1), s47_start=D(2026, 3, 10))])
    )  # 15 working days: 11 March to 31 March
    assert "8675Q" in rules_broken(
        child(episodes=[episode(referral_date=D(2026, 3, 1), s47_start=D(2026, 3, 9))])
    )


def test_working_days_skip_weekends_and_bank_holidays():
    # Christmas 2025: Thursday 25 and Friday 26 December are bank holidays.
    assert census._working_days_after(D(2025, 12, 24), D(2025, 12, 29)) == 1
    assert census._working_days_after(D(2025, 12, 29), D(2025, 12, 29)) == 0
    # Rule 8675Q's line: from 10 March 2026, 15 working days remain to 31 March.
    assert census._earliest_start_within(D(2026, 3, 31), 15) == D(2026, 3, 10)
    assert census._working_days_after(D(2026, 3, 10), D(2026, 3, 31)) == 15


def test_2991q_section_47_with_no_assessment():
    assert "2991Q" in rules_broken(child(episodes=[episode(s47_start=D(2025, 6, 3))]))
    assert "2991Q" not in rules_broken(child())


# --- The return as a whole -----------------------------------------------------------------------


def test_100_reference_date_must_be_31_march():
    checks = census.ReturnChecks(YEAR, "881")
    checks.add(child())
    assert "100" in {f.rule for f in checks.finish(D(2026, 3, 30))}
    assert "100" not in {f.rule for f in checks.finish()}


@pytest.mark.parametrize("code", ["", "88", "8811", "ABC", "<1>"])
def test_lea_must_be_three_digits(code):
    checks = census.ReturnChecks(YEAR, code)
    checks.add(child())
    assert "LEA" in {f.rule for f in checks.finish()}


def test_an_empty_return_is_an_error():
    assert {f.rule for f in census.ReturnChecks(YEAR, "881").finish()} == {"EMPTY"}


def test_8510_and_1520_duplicates_across_the_return():
    checks = census.ReturnChecks(YEAR, "881")
    assert checks.add(child()) == []
    again = {f.rule for f in checks.add(child(person_id=13))}
    assert again == {"8510", "1520"}


def test_2886q_more_than_2_percent_of_born_children_with_sex_u():
    checks = census.ReturnChecks(YEAR, "881")
    for n in range(49):
        checks.add(child(la_child_id=f"P{n}", upn=""))
    checks.add(child(la_child_id="PU", upn="", sex="U"))  # 1 in 50: 2%, not more
    assert "2886Q" not in {f.rule for f in checks.finish()}
    checks.add(child(la_child_id="PU2", upn="", sex="U"))
    assert "2886Q" in {f.rule for f in checks.finish()}


def test_2886q_does_not_count_unborn_children():
    checks = census.ReturnChecks(YEAR, "881")
    checks.add(child())
    unborn = child(
        la_child_id="P2", upn="", birth_date=None, expected_birth_date=D(2026, 5, 1), sex="U"
    )
    checks.add(unborn)
    assert "2886Q" not in {f.rule for f in checks.finish()}


def test_2887q_and_2888q_disability_codes_across_the_return():
    checks = census.ReturnChecks(YEAR, "881")
    checks.add(child())
    assert {"2887Q", "2888Q"} <= {f.rule for f in checks.finish()}
    rich = census.ReturnChecks(YEAR, "881")
    codes = ["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS"]
    rich.add(child(disabilities=tuple(codes)))
    assert not {"2887Q", "2888Q"} & {f.rule for f in rich.finish()}


# --- Findings ----------------------------------------------------------------------------------


def test_findings_name_the_child_for_the_page_and_not_for_stored_text():
    finding = census.check_child(child(birth_date=None), YEAR)[0]
    assert finding.rule == "8525"
    assert "Amelia Hart" in finding.describe(with_name=True)
    assert "Amelia" not in finding.describe(with_name=False)
    assert "P00000012" in finding.describe(with_name=False)


def test_findings_keep_a_bounded_number_per_rule_but_count_all():
    findings = census.Findings()
    one = census.check_child(child(birth_date=None), YEAR)[0]
    findings.extend([one] * (census.KEEP_PER_RULE + 5))
    assert findings.count(Severity.ERROR) == census.KEEP_PER_RULE + 5
    assert len(findings.errors) == census.KEEP_PER_RULE


# --- Assessment factors from themes ------------------------------------------------------------


def test_theme_factors_are_census_codes():
    assert set(census.THEME_FACTORS.values()) <= census.ASSESSMENT_FACTOR_CODES
    from mash.enquiries.models import Theme

    assert set(census.THEME_FACTORS) <= set(Theme.values)


def test_assessment_factors_from_themes():
    assert census.assessment_factors(["neglect", "cse", "cce", "fgm", "mental_health"]) == [
        "11A",
        "16A",
        "22A",
        "24A",
    ]
    assert census.assessment_factors(["radicalisation", "honour_based_abuse"]) == ["20"]
    assert census.assessment_factors([]) == []


# --- Writing -----------------------------------------------------------------------------------


def test_child_xml_escapes_every_value():
    hostile = child(la_child_id="P<1>&", upn="", ethnicity="<x>")
    xml = census.child_xml(hostile)
    assert "<LAchildID>P&lt;1&gt;&amp;</LAchildID>" in xml
    assert "<Ethnicity>&lt;x&gt;</Ethnicity>" in xml
    assert "Amelia" not in xml


def test_header_escapes_the_la_code():
    xml = census.header_xml(YEAR, "<&>", dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC), 1)
    assert "<LEA>&lt;&amp;&gt;</LEA>" in xml


def test_year_limits():
    assert census.latest_year(D(2026, 3, 31)) == 2027
    assert census.latest_year(D(2026, 4, 1)) == 2027
    assert census.default_year(D(2026, 5, 10)) == 2026
    assert census.default_year(D(2026, 8, 1)) == 2027
    assert CensusYear(2026).start == D(2025, 4, 1)
    assert CensusYear(2026).reference_date == D(2026, 3, 31)
