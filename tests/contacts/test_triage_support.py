"""Builders for the triage tests: police notifications received through the real service."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from mash.accounts.models import Agency, AgencyKind
from mash.contacts import police
from mash.contacts.models import PoliceNotification, ReceivedVia
from mash.core import clock
from mash.people import services as people_services
from mash.people.models import Person
from tests import factories

_refs = itertools.count(1)
BORN = dt.date(2018, 5, 4)


def force(name: str = "Northshire Police") -> Agency:
    existing = Agency.objects.filter(name=name).first()
    return existing or factories.agency(name=name, kind=AgencyKind.POLICE)


def child(
    given: str = "Amelia", family: str = "Hart", born: dt.date | None = BORN, **kw: Any
) -> police.ChildEntry:
    return police.ChildEntry(given_name=given, family_name=family, date_of_birth=born, **kw)


def adult(role: str = "suspect", given: str = "Dean", family: str = "Hart") -> police.AdultEntry:
    return police.AdultEntry(role=role, given_name=given, family_name=family)


def notification(
    force_: Agency | None = None,
    *,
    children: list[police.ChildEntry] | None = None,
    adults: list[police.AdultEntry] | None = None,
    incident_type: str = "domestic_abuse",
    dash_risk: str | None = None,
    incident_at: dt.datetime | None = None,
    received_at: dt.datetime | None = None,
    reference: str | None = None,
    narrative: str = "Officers attended a verbal argument; the children were upstairs.",
) -> PoliceNotification:
    if dash_risk is None:
        dash_risk = "medium" if incident_type == "domestic_abuse" else ""
    entry = police.NotificationEntry(
        occurrence_reference=reference or f"OCC-{next(_refs):06d}",
        incident_at=incident_at or clock.now() - dt.timedelta(hours=6),
        incident_type=incident_type,
        dash_risk=dash_risk,
        children=children if children is not None else [child()],
        adults=adults if adults is not None else [adult(), adult("victim", "Dawn")],
        location="12 Mill Lane, Northbridge",
        narrative=narrative,
        officer_name="PC Jo Brook",
        officer_collar_number="4512",
        officer_team="Northbridge response team",
    )
    found, _ = police.receive_notification(
        actor=None, force=force_ or force(), entry=entry, via=ReceivedVia.MANUAL
    )
    if received_at is not None:
        PoliceNotification.objects.filter(pk=found.pk).update(received_at=received_at)
        found.refresh_from_db()
    return found


def person(given: str = "Amelia", family: str = "Hart", born: dt.date | None = BORN) -> Person:
    return people_services.add_person(
        actor=None,
        member=people_services.NewPerson(
            given_name=given, family_name=family, sex="F", ethnicity="NOBT", date_of_birth=born
        ),
    )
