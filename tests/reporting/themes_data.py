"""A small hand-made hub for the themes, hotspots and extract tests.

The period is 1 January to 28 February 2025 plus March up to the 29th, written as
1 January to 29 March 2025: all in GMT, so London time is UTC. The right answers are
worked out by hand in the tests from the table below.

Children (age on the day of the decision):
  A  Zebedee Quartermaine      born 2024-06-10, M, WBRI   (under 1 in Jan and Mar)
  B  Ottoline Featherstonehaugh born 2015-02-20, F, BAFR  (9 on 19 Feb: birthday next day)
  C  Peregrine Wolstenholme    born 2009-03-01, M, AIND   (16 on 1 Mar: birthday that day)
  D  (unborn) Baby Ravenscroft expected 2025-06-01, U, NOBT
  E  Araminta Ravenscroft      born 2012-01-31, F, WBRI   (13 on 31 Jan)

Enquiries and decisions (postcode recorded on the contact for that child):
  E1 A decided 15 Jan [cse, missing]          "NM1 4QT"
     D decided 20 Jan [domestic_abuse]         "nm1 2ab "
  E2 B decided 19 Feb [cse, trafficking]       "NM1 7XY"
  E3 C decided  1 Mar [cse]                    "" -> household address "NM2 3AB"
  E4 E decided 31 Jan []                       "UNKNOWN"
  E5 A decided 10 Mar [cse, missing]           "NM3 1AA"
  E6 B decided 31 Dec 2024 23:30 [cse]         "NM1 7XY"  (before the period)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mash.accounts.models import User
from mash.contacts.models import Contact, ContactPerson, ContactStatus, PersonRole
from mash.enquiries.models import Decision, DecisionTheme, Enquiry, EnquiryStatus
from mash.people.models import Address, Household, Person
from mash.reporting.models import WardLookup
from mash.reporting.performance import Period
from tests import factories

PERIOD = Period(dt.date(2025, 1, 1), dt.date(2025, 3, 29))
NOW = dt.datetime(2025, 3, 29, 12, 0, tzinfo=dt.UTC)

# What must never appear on an analyst's page or file.
NAMES = [
    "Zebedee",
    "Quartermaine",
    "Ottoline",
    "Featherstonehaugh",
    "Peregrine",
    "Wolstenholme",
    "Araminta",
    "Ravenscroft",
]
DATES_OF_BIRTH = [
    "2024-06-10",
    "10/06/2024",
    "10 June 2024",
    "2015-02-20",
    "20 February 2015",
    "2009-03-01",
    "1 March 2009",
    "2012-01-31",
    "31 January 2012",
    "2025-06-01",
]
NHS_NUMBERS = ["9434765919", "9434765870", "9434765828", "9434765811"]
POSTCODES = [
    "NM1 4QT",
    "NM14QT",
    "NM1 7XY",
    "NM17XY",
    "NM2 3AB",
    "NM23AB",
    "NM3 1AA",
    "NM1 2AB",
    "nm1 2ab",
]
FORBIDDEN = NAMES + DATES_OF_BIRTH + NHS_NUMBERS + POSTCODES


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00+00:00")


@dataclass
class Hub:
    manager: User
    people: dict[str, Person] = field(default_factory=dict)
    enquiries: dict[str, Enquiry] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)


def _person(
    given: str, family: str, born: str | None, sex: str, ethnicity: str, **kw: object
) -> Person:
    return Person.objects.create(
        given_name=given,
        family_name=family,
        date_of_birth=dt.date.fromisoformat(born) if born else None,
        sex=sex,
        ethnicity=ethnicity,
        **kw,
    )


def enquiry(hub: Hub, name: str, children: dict[str, str], opened: dt.datetime) -> Enquiry:
    """An enquiry on a new contact naming `children` (letter -> postcode on the contact)."""
    contact = Contact.objects.create(
        status=ContactStatus.SCREENED,
        received_at=opened - dt.timedelta(hours=2),
        channel="online_form",
        referral_source="2A",
        referrer_name="Ms Referrer Smallbone",
        concern="A worry.",
        created_by=hub.manager,
        screening_outcome="progress",
        screened_at=opened,
    )
    for position, (letter, postcode) in enumerate(children.items()):
        person = hub.people[letter]
        ContactPerson.objects.create(
            contact=contact,
            person=person,
            role=PersonRole.CHILD,
            position=position,
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
            nhs_number=person.nhs_number or "",
            postcode=postcode,
        )
    made = Enquiry.objects.create(
        contact=contact,
        contact_received_at=contact.received_at or opened,
        status=EnquiryStatus.CLOSED,
        opened_at=opened,
        opened_by=hub.manager,
        rag="amber",
        rated_at=opened,
    )
    hub.enquiries[name] = made
    return made


def decide(
    hub: Hub,
    enquiry_name: str,
    letter: str,
    when: dt.datetime,
    themes: list[str],
    outcome: str = "s17",
) -> Decision:
    made = Decision.objects.create(
        enquiry=hub.enquiries[enquiry_name],
        child=hub.people[letter],
        outcome=outcome,
        primary_need="N1",
        rationale="Because.",
        next_team="Assessment team",
        decided_at=when,
        decided_by=hub.manager,
    )
    for theme in themes:
        DecisionTheme.objects.create(decision=made, theme=theme)
    hub.decisions[f"{letter}@{enquiry_name}"] = made
    return made


def build() -> Hub:
    hub = Hub(manager=factories.hub_manager())
    home = Household.objects.create(
        address=Address.objects.create(line_1="1 Ash Row", town="Newtown", postcode="NM2 3AB")
    )
    hub.people = {
        "A": _person("Zebedee", "Quartermaine", "2024-06-10", "M", "WBRI", nhs_number="9434765919"),
        "B": _person(
            "Ottoline", "Featherstonehaugh", "2015-02-20", "F", "BAFR", nhs_number="9434765870"
        ),
        "C": _person(
            "Peregrine",
            "Wolstenholme",
            "2009-03-01",
            "M",
            "AIND",
            household=home,
            nhs_number="9434765828",
        ),
        "D": _person(
            "Baby", "Ravenscroft", None, "U", "NOBT", expected_date_of_birth=dt.date(2025, 6, 1)
        ),
        "E": _person("Araminta", "Ravenscroft", "2012-01-31", "F", "WBRI", nhs_number="9434765811"),
    }
    enquiry(hub, "E1", {"A": "NM1 4QT", "D": "nm1 2ab "}, at("2025-01-14"))
    decide(hub, "E1", "A", at("2025-01-15"), ["cse", "missing"])
    decide(hub, "E1", "D", at("2025-01-20"), ["domestic_abuse"], outcome="early_help")
    enquiry(hub, "E2", {"B": "NM1 7XY"}, at("2025-02-18"))
    decide(hub, "E2", "B", at("2025-02-19"), ["cse", "trafficking"], outcome="s47")
    enquiry(hub, "E3", {"C": ""}, at("2025-02-28"))
    decide(hub, "E3", "C", at("2025-03-01"), ["cse"])
    enquiry(hub, "E4", {"E": "UNKNOWN"}, at("2025-01-30"))
    decide(hub, "E4", "E", at("2025-01-31"), [], outcome="nfa")
    enquiry(hub, "E5", {"A": "NM3 1AA"}, at("2025-03-09"))
    decide(hub, "E5", "A", at("2025-03-10"), ["cse", "missing"])
    enquiry(hub, "E6", {"B": "NM1 7XY"}, at("2024-12-30"))
    decide(hub, "E6", "B", at("2024-12-31", "23:30"), ["cse"])
    return hub


def load_wards() -> None:
    """NM1 4QT and NM1 7XY in Riverside; NM1 2AB and NM2 3AB in Hillside; NM3 1AA in none."""
    WardLookup.objects.bulk_create(
        [
            WardLookup(postcode="NM14QT", ward_code="E05000001", ward_name="Riverside"),
            WardLookup(postcode="NM17XY", ward_code="E05000001", ward_name="Riverside"),
            WardLookup(postcode="NM12AB", ward_code="E05000002", ward_name="Hillside"),
            WardLookup(postcode="NM23AB", ward_code="E05000002", ward_name="Hillside"),
        ]
    )


def add_busy_district(hub: Hub, n: int = 6) -> None:
    """`n` more enquiries in February, one child each, all in district NM9, no themes."""
    for i in range(n):
        letter = f"Busy{i}"
        hub.people[letter] = _person(f"Child{i}", "Manyfold", "2016-05-05", "M", "WBRI")
        enquiry(hub, f"B{i}", {letter: f"NM9 {i}AA"}, at("2025-02-10"))
        decide(hub, f"B{i}", letter, at("2025-02-11"), [], outcome="nfa")
