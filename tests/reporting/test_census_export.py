"""The census file for a hand-made set of children, read back from the XML.

Census 2026: 1 April 2025 to 31 March 2026, reference date 31 March 2026, LA 881.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from mash.core.models import AuditEvent, LocalAuthority
from mash.reporting import census
from mash.reporting.census import Severity
from tests.reporting import test_census_data as data

pytestmark = pytest.mark.django_db

XSD = Path(__file__).parent / "data" / "cin_census_2026.xsd"
NOW = dt.datetime(2026, 5, 10, 12, 0, tzinfo=dt.UTC)
D = dt.date

CHILD_IDENTIFIERS_ORDER = [
    "LAchildID",
    "UPN",
    "FormerUPN",
    "UPNunknown",
    "PersonBirthDate",
    "ExpectedPersonBirthDate",
    "Sex",
    "PersonDeathDate",
]
CIN_DETAILS_ORDER = [
    "CINreferralDate",
    "ReferralSource",
    "PrimaryNeedCode",
    "CINclosureDate",
    "ReasonForClosure",
    "DateOfInitialCPC",
    "Assessments",
    "CINPlanDates",
    "Section47",
    "ReferralNFA",
    "ChildProtectionPlans",
]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hand_made():
    """The children of the issue: a re-referral, two referrals in the year, an unborn
    child, a child with no pupil number; and referrals that must be left out."""
    data.hub()
    by = data.manager()
    kids = {}
    kids["amelia"] = data.person("Amelia", "Hart", born=D(2018, 5, 4), upn=data.UPN)
    data.referral(kids["amelia"], by, received=D(2025, 6, 2), decided=D(2025, 6, 3), outcome="s47")

    kids["unborn"] = data.person("Baby", "Cole", born=None, expected=D(2026, 5, 20), sex="U")
    data.referral(kids["unborn"], by, received=D(2025, 11, 10), need="N4", source="3B")

    kids["no_upn"] = data.person("Leo", "Park", born=D(2019, 9, 1), sex="M", ethnicity="AIND")
    data.referral(kids["no_upn"], by, received=D(2026, 1, 12), source="6", need="N5")

    kids["twice"] = data.person("Mia", "Jones", born=D(2015, 3, 10), ethnicity="MWBC")
    data.referral(kids["twice"], by, received=D(2025, 5, 1), decided=D(2025, 5, 2))
    data.referral(kids["twice"], by, received=D(2025, 9, 15), outcome="s47", source="1A")

    # A re-referral: referred in February 2025 (the 2025 census) and again in December.
    kids["again"] = data.person("Noah", "Smith", born=D(2012, 1, 20), sex="M", ethnicity="BAFR")
    data.referral(kids["again"], by, received=D(2025, 2, 10), source="2B")
    data.referral(kids["again"], by, received=D(2025, 12, 1), outcome="s47", need="N2")

    # Left out: not referrals, another authority's child, and outside the year.
    other = data.person("Ruby", "Lane", born=D(2016, 2, 2))
    data.referral(other, by, received=D(2025, 7, 1), outcome="early_help")
    data.referral(other, by, received=D(2025, 8, 1), outcome="nfa")
    elsewhere = LocalAuthority.objects.get_or_create(code="302", defaults={"name": "Barnet"})[0]
    far = data.person("Ada", "Far", born=D(2014, 4, 4))
    data.referral(far, by, received=D(2025, 7, 1), responsible_la=elsewhere)
    late = data.person("Late", "Child", born=D(2014, 4, 4))
    data.referral(late, by, received=data.london(D(2026, 4, 1), 0, 1))
    early = data.person("Early", "Child", born=D(2014, 4, 4))
    data.referral(early, by, received=data.london(D(2025, 3, 31), 23, 59))
    # 23:30 in London on 31 March 2026 is 22:30 UTC: still in the year.
    kids["last_minute"] = data.person("Last", "Minute", born=D(2013, 3, 3))
    data.referral(kids["last_minute"], by, received=data.london(D(2026, 3, 31), 23, 30))
    return kids


def produce(year: int = 2026) -> tuple[census.CensusResult, bytes]:
    out = io.BytesIO()
    result = census.write_census(year, out)
    return result, out.getvalue()


def children_by_id(xml: bytes) -> dict[str, Any]:
    root = data.parse(xml)
    return {c.findtext("ChildIdentifiers/LAchildID"): c for c in root.iter("Child")}


def test_the_hand_made_set_gives_one_child_each_with_their_referrals(hand_made):
    result, xml = produce()
    assert result.ok
    assert result.written
    kids = children_by_id(xml)
    expected = {census.la_child_id(p.pk) for p in hand_made.values()}
    assert set(kids) == expected
    assert result.children == 6
    assert result.referrals == 7  # Mia has two
    assert result.size == len(xml)


def test_header_values_and_no_namespace(hand_made):
    _, xml = produce()
    root = data.parse(xml)
    assert root.tag == "Message"  # no namespace: ElementTree would show {uri}Message
    assert b"xmlns" not in xml
    assert [e.tag for e in root] == ["Header", "Children"]
    header = root.find("Header")
    assert [e.tag for e in header] == ["CollectionDetails", "Source"]
    details = header.find("CollectionDetails")
    assert [(e.tag, e.text) for e in details] == [
        ("Collection", "CIN"),
        ("Year", "2026"),
        ("ReferenceDate", "2026-03-31"),
    ]
    source = header.find("Source")
    assert [e.tag for e in source] == [
        "SourceLevel",
        "LEA",
        "SoftwareCode",
        "Release",
        "SerialNo",
        "DateTime",
    ]
    assert source.findtext("SourceLevel") == "L"
    assert source.findtext("LEA") == "881"
    assert source.findtext("SoftwareCode") == "MASH"
    assert source.findtext("SerialNo") == "001"
    assert source.findtext("DateTime") == "2026-05-10T13:00:00"  # London time (BST)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def _in_order(tags: list[str], order: list[str]) -> bool:
    positions = [order.index(t) for t in tags]
    return positions == sorted(positions)


def test_elements_are_in_the_schemas_order(hand_made):
    _, xml = produce()
    for child in data.parse(xml).iter("Child"):
        tags = [e.tag for e in child]
        assert tags[:2] == ["ChildIdentifiers", "ChildCharacteristics"]
        assert set(tags[2:]) == {"CINdetails"}
        assert _in_order([e.tag for e in child.find("ChildIdentifiers")], CHILD_IDENTIFIERS_ORDER)
        assert child.find("ChildCharacteristics")[0].tag == "Ethnicity"
        for details in child.iter("CINdetails"):
            assert _in_order([e.tag for e in details], CIN_DETAILS_ORDER)
            s47 = details.find("Section47")
            if s47 is not None:
                assert [e.tag for e in s47] == ["S47ActualStartDate", "ICPCnotRequired"]


def test_the_file_is_valid_against_the_schema(hand_made):
    etree = pytest.importorskip("lxml.etree")
    _, xml = produce()
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.fromstring(xml)
    assert schema.validate(document), schema.error_log


def test_a_child_with_a_section_47_referral(hand_made):
    _, xml = produce()
    amelia = children_by_id(xml)[census.la_child_id(hand_made["amelia"].pk)]
    assert amelia.findtext("ChildIdentifiers/UPN") == data.UPN
    assert amelia.findtext("ChildIdentifiers/PersonBirthDate") == "2018-05-04"
    assert amelia.findtext("ChildIdentifiers/Sex") == "F"
    assert amelia.findtext("ChildCharacteristics/Ethnicity") == "WBRI"
    assert [d.text for d in amelia.iter("Disability")] == ["NONE"]
    (details,) = amelia.findall("CINdetails")
    assert details.findtext("CINreferralDate") == "2025-06-02"  # the contact's day
    assert details.findtext("ReferralSource") == "2A"
    assert details.findtext("PrimaryNeedCode") == "N1"
    assert details.findtext("ReferralNFA") == "false"
    assert details.findtext("Section47/S47ActualStartDate") == "2025-06-03"  # the decision's
    assert details.findtext("Section47/ICPCnotRequired") == "false"
    assert details.find("CINclosureDate") is None
    assert details.find("Assessments") is None


def test_an_unborn_child(hand_made):
    _, xml = produce()
    unborn = children_by_id(xml)[census.la_child_id(hand_made["unborn"].pk)]
    ids = unborn.find("ChildIdentifiers")
    assert ids.find("PersonBirthDate") is None
    assert ids.findtext("ExpectedPersonBirthDate") == "2026-05-20"
    assert ids.findtext("Sex") == "U"
    # Disability is asked for born children only.
    assert unborn.find("ChildCharacteristics/Disabilities") is None
    assert unborn.findtext("CINdetails/ReferralSource") == "3B"
    assert unborn.findtext("CINdetails/PrimaryNeedCode") == "N4"
    assert unborn.find("CINdetails/Section47") is None


def test_a_child_with_no_pupil_number(hand_made):
    result, xml = produce()
    leo = children_by_id(xml)[census.la_child_id(hand_made["no_upn"].pk)]
    assert leo.find("ChildIdentifiers/UPN") is None
    assert leo.find("ChildIdentifiers/UPNunknown") is None  # the hub records no reason
    assert leo.findtext("ChildIdentifiers/Sex") == "M"
    # School age: the Department will ask (a query, which does not stop the file).
    queried = {f.la_child_id for f in result.findings.of(Severity.QUERY) if f.rule == "8770Q"}
    assert census.la_child_id(hand_made["no_upn"].pk) in queried


def test_a_child_with_two_referrals_in_the_year(hand_made):
    result, xml = produce()
    mia = children_by_id(xml)[census.la_child_id(hand_made["twice"].pk)]
    first, second = mia.findall("CINdetails")
    assert first.findtext("CINreferralDate") == "2025-05-01"
    # Closed on the day of the next referral, which the DfE's rule 8820 allows.
    assert first.findtext("CINclosureDate") == "2025-09-15"
    assert first.findtext("ReasonForClosure") == "RC7"
    assert first.find("Section47") is None
    assert second.findtext("CINreferralDate") == "2025-09-15"
    assert second.findtext("ReferralSource") == "1A"
    assert second.find("CINclosureDate") is None
    assert second.findtext("Section47/S47ActualStartDate") == "2025-09-15"
    noted = {f.la_child_id for f in result.findings.of(Severity.NOTE)}
    assert census.la_child_id(hand_made["twice"].pk) in noted


def test_a_re_referral_has_only_this_years_referral(hand_made):
    _, xml = produce()
    noah = children_by_id(xml)[census.la_child_id(hand_made["again"].pk)]
    (details,) = noah.findall("CINdetails")
    assert details.findtext("CINreferralDate") == "2025-12-01"
    assert details.findtext("PrimaryNeedCode") == "N2"
    assert details.find("CINclosureDate") is None
    # Last year's census has the February referral.
    result, xml_2025 = produce(2025)
    assert result.ok
    last_year = children_by_id(xml_2025)[census.la_child_id(hand_made["again"].pk)]
    assert [d.findtext("CINreferralDate") for d in last_year.iter("CINdetails")] == ["2025-02-10"]


def test_the_referral_date_is_the_london_day_the_contact_was_received(hand_made):
    _, xml = produce()
    last = children_by_id(xml)[census.la_child_id(hand_made["last_minute"].pk)]
    assert last.findtext("CINdetails/CINreferralDate") == "2026-03-31"


def test_the_whole_set_passes_every_rule_with_no_error(hand_made):
    result = census.preview(2026)
    assert result.findings.count(Severity.ERROR) == 0
    # Queries the hub cannot avoid: no disabilities, no assessments, no conferences.
    queries = {rule for rule, _, _ in result.findings.groups(Severity.QUERY)}
    assert {"2887Q", "2888Q", "2991Q"} <= queries


def test_hostile_names_stay_out_of_a_valid_file():
    data.hub()
    by = data.manager()
    kid = data.person("<Zoë & 'Jo'>", '"Nash" </Child>', born=D(2017, 1, 1))
    data.referral(kid, by, received=D(2025, 6, 1))
    result, xml = produce()
    assert result.ok
    assert b"Nash" not in xml
    assert "Zoë".encode() not in xml
    assert len(list(data.parse(xml).iter("Child"))) == 1


# --- Missing items: no file, and the child named ------------------------------------------------


@pytest.fixture
def incomplete():
    data.hub()
    by = data.manager()
    kids = {
        "no_dob": data.person("Zoë", "<b>Nash</b> & Co", born=None),
        "no_source": data.person("Ivy", "Ross", born=D(2017, 1, 1)),
        "no_need": data.person("Eli", "Ford", born=D(2017, 1, 1)),
        "fine": data.person("Ben", "Good", born=D(2017, 1, 1), sex="M"),
    }
    data.referral(kids["no_dob"], by, received=D(2025, 6, 1))
    data.referral(kids["no_source"], by, received=D(2025, 6, 1), source="")
    data.referral(kids["no_need"], by, received=D(2025, 6, 1), need="")
    data.referral(kids["fine"], by, received=D(2025, 6, 1))
    return kids


def test_missing_items_stop_the_file_and_name_each_child(incomplete):
    out = io.BytesIO()
    result = census.write_census(2026, out)
    assert not result.ok
    assert not result.written
    assert out.getvalue() == b""
    errors = {(f.child_name, f.rule) for f in result.findings.errors}
    assert errors == {
        ("Zoë <b>Nash</b> & Co", "8525"),
        ("Ivy Ross", "8866"),
        ("Eli Ford", "8610"),
    }
    by_rule = {f.rule: f for f in result.findings.errors}
    assert "date of birth" in by_rule["8525"].item.lower()
    assert "referral source" in by_rule["8866"].item.lower()
    assert by_rule["8866"].contact_id is not None
    assert "primary need" in by_rule["8610"].item.lower()
    text = result.problem_text()
    assert "Zoë" not in text
    assert "Ivy" not in text
    assert census.la_child_id(incomplete["no_dob"].pk) in text


def test_no_local_authority_code_stops_the_file(hand_made):
    data.hub(la_code="")
    result, xml = produce()
    assert xml == b""
    assert [f.rule for f in result.findings.errors] == ["LEA"]


def test_a_year_with_no_referral_makes_no_file():
    data.hub()
    result, xml = produce(2019)
    assert xml == b""
    assert [f.rule for f in result.findings.errors] == ["EMPTY"]


def test_a_child_born_after_31_march_is_sent_as_unborn():
    data.hub()
    by = data.manager()
    baby = data.person("Baby", "May", born=D(2026, 4, 20), sex="F")
    data.referral(baby, by, received=D(2026, 1, 10))
    result, xml = produce()
    assert result.ok
    ids = data.parse(xml).find("Children/Child/ChildIdentifiers")
    assert ids.find("PersonBirthDate") is None
    assert ids.findtext("ExpectedPersonBirthDate") == "2026-04-20"
    assert ids.findtext("Sex") == "U"
    notes = {f.rule for f in result.findings.of(Severity.NOTE)}
    assert {"born_after_reference_date", "unborn_sex_sent_as_u"} <= notes


def test_same_day_referrals_are_one_referral_and_a_late_section_47_is_left_out():
    data.hub()
    by = data.manager()
    kid = data.person("Sam", "Day", born=D(2016, 6, 6))
    data.referral(kid, by, received=data.london(D(2026, 3, 30), 9), outcome="s17")
    data.referral(
        kid,
        by,
        received=data.london(D(2026, 3, 30), 14),
        decided=D(2026, 4, 2),
        outcome="s47",
    )
    result, xml = produce()
    assert result.ok, result.problem_text()
    (details,) = data.parse(xml).iter("CINdetails")
    assert details.findtext("CINreferralDate") == "2026-03-30"
    assert details.find("Section47") is None  # started 2 April: next year's activity
    notes = {f.rule for f in result.findings.of(Severity.NOTE)}
    assert {"same_day_referrals", "s47_after_reference_date"} <= notes


def test_overlapping_referrals_are_an_error():
    """The first referral's section 47 began after the second referral arrived."""
    data.hub()
    by = data.manager()
    kid = data.person("Ola", "Lap", born=D(2016, 6, 6))
    data.referral(kid, by, received=D(2025, 6, 1), decided=D(2025, 6, 10), outcome="s47")
    data.referral(kid, by, received=D(2025, 6, 5), decided=D(2025, 6, 6))
    result, xml = produce()
    assert xml == b""
    assert "8565" in {f.rule for f in result.findings.errors}


def test_records_changing_between_check_and_writing_stop_the_stream(hand_made):
    assert census.preview(2026).ok
    stream = census.stream_census(2026)  # as a download: checked, then streamed
    hand_made["unborn"].expected_date_of_birth = None
    hand_made["unborn"].save()
    with pytest.raises(census.CensusChanged) as changed:
        list(stream)
    assert changed.value.findings[0].rule == "8525"


# --- Streaming, bounded queries ----------------------------------------------------------------


def test_streaming_reads_the_year_with_one_query_however_many_children(
    django_assert_max_num_queries,
):
    hub = data.hub()
    by = data.manager()
    for n in range(30):
        kid = data.person(f"Child{n}", "Many", born=D(2015, 1, 1) + dt.timedelta(days=n))
        data.referral(kid, by, received=D(2025, 6, 1) + dt.timedelta(days=n))
    with django_assert_max_num_queries(1):
        pieces = list(census.stream_census(2026, hub=hub, buffer_size=2048))
    assert len(pieces) > 3  # written as it goes, not as one document
    assert len(list(data.parse(b"".join(pieces)).iter("Child"))) == 30
    with django_assert_max_num_queries(1):
        result = census.preview(2026, hub=hub)
    assert result.children == 30


def test_write_census_reports_progress(hand_made):
    calls: list[tuple[int, int]] = []
    census.write_census(2026, io.BytesIO(), lambda done, total: calls.append((done, total)))
    assert calls[-1] == (12, 12)  # 6 children checked, then 6 written
    assert all(done <= total for done, total in calls)


# --- The background export, and the command ----------------------------------------------------


class _Export:
    def __init__(self, parameters):
        self.parameters = parameters
        self.pk = 7


def test_export_file_writes_the_census_with_the_exports_serial(hand_made):
    out = io.BytesIO()
    census.export_file(_Export({"year": 2026}), out, data.ignore_progress)
    assert data.parse(out.getvalue()).findtext("Header/Source/SerialNo") == "007"


def test_export_file_fails_with_the_problems_and_no_names(incomplete):
    from mash.reporting.exports import ExportProblem

    with pytest.raises(ExportProblem) as problem:
        census.export_file(_Export({"year": 2026}), io.BytesIO(), data.ignore_progress)
    assert "Zoë" not in str(problem.value)
    assert census.la_child_id(incomplete["no_dob"].pk) in str(problem.value)


@pytest.mark.parametrize("year", [None, "", "abc", 1999, 2028, True, [2026], "2026.5", "9" * 50])
def test_export_parameters_are_checked(year):
    with pytest.raises(ValidationError):
        census.check_parameters({"year": year})


def test_export_parameters_accept_a_year():
    assert census.check_parameters({"year": "2026"}) == {"year": 2026}
    assert census.check_parameters({"year": 2027}) == {"year": 2027}


def test_the_command_writes_the_file_to_standard_output(hand_made):
    out, err = io.StringIO(), io.StringIO()
    call_command("cin_census", year=2026, stdout=out, stderr=err)
    assert len(list(data.parse(out.getvalue().encode()).iter("Child"))) == 6
    assert "6 children" in err.getvalue()
    assert AuditEvent.objects.filter(action="reporting.cin_census_exported").exists()


def test_the_command_writes_nothing_when_a_child_has_a_problem(incomplete, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "cin.xml"
    with pytest.raises(CommandError):
        call_command("cin_census", year=2026, output=str(target), stdout=out, stderr=err)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file left behind
    assert out.getvalue() == ""
    assert census.la_child_id(incomplete["no_dob"].pk) in err.getvalue()
    assert "Zoë" not in err.getvalue()  # terminals are logged: no names


def test_the_command_writes_a_file_with_output(hand_made, tmp_path):
    target = tmp_path / "cin.xml"
    call_command("cin_census", year=2026, output=str(target), stderr=io.StringIO())
    assert data.parse(target.read_bytes()).tag == "Message"


@pytest.mark.parametrize("year", [1999, 2028])
def test_the_command_refuses_a_year_out_of_range(year):
    with pytest.raises(CommandError, match="between 2000 and 2027"):
        call_command("cin_census", year=year, stdout=io.StringIO())


def test_mash_cin_census_is_the_cin_census_command(monkeypatch):
    import django.core.management

    from mash import cli

    seen: list[list[str]] = []
    monkeypatch.setattr(django.core.management, "execute_from_command_line", seen.append)
    monkeypatch.setattr("sys.argv", ["mash", "cin-census", "--year", "2026"])
    cli.main()
    assert seen == [["mash", "cin_census", "--year", "2026"]]
