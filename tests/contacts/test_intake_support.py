"""Builders for the police intake, quality and today tests: notifications made through the service.

(Named test_intake_* to sit with the intake tests; it holds no tests itself.)
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from mash.accounts.models import Agency, AgencyKind, User
from mash.contacts import police
from mash.contacts.models import PoliceNotification
from mash.core import clock
from tests import factories

_refs = itertools.count(1)


def force(**kw: Any) -> Agency:
    kw.setdefault("kind", AgencyKind.POLICE)
    return factories.agency(**kw)


def entry(**overrides: Any) -> police.NotificationEntry:
    """A valid domestic-abuse notification, about an hour before now."""
    fields: dict[str, Any] = {
        "occurrence_reference": f"OCC/{next(_refs):05d}/26",
        "incident_at": clock.now() - dt.timedelta(hours=1),
        "incident_type": "domestic_abuse",
        "dash_risk": "medium",
        "location": "12 Mill Lane, Riverton",
        "narrative": "Officers attended a verbal argument; two children present.",
        "officer_name": "PC Jo Bell",
        "officer_collar_number": "4521",
        "officer_team": "Riverton response",
        "children": [
            police.ChildEntry(
                given_name="Amelia",
                family_name="Hart",
                date_of_birth=dt.date(2018, 5, 4),
                seen=True,
                spoken_to=True,
            )
        ],
        "adults": [police.AdultEntry(role="victim", given_name="Dawn", family_name="Hart")],
    }
    fields.update(overrides)
    return police.NotificationEntry(**fields)


def notification(
    *,
    actor: User,
    force_: Agency,
    received_at: dt.datetime | None = None,
    via: str = "manual",
    **overrides: Any,
) -> PoliceNotification:
    """A notification received (at `received_at`, if given) through receive_notification."""
    if received_at is not None:
        overrides.setdefault("incident_at", received_at - dt.timedelta(hours=1))
        with clock.at(received_at):
            made, _ = police.receive_notification(
                actor=actor, force=force_, entry=entry(**overrides), via=via
            )
        return made
    made, _ = police.receive_notification(
        actor=actor, force=force_, entry=entry(**overrides), via=via
    )
    return made


def manual_post(force_: Agency, *, children: int = 1, adults: int = 1, **overrides: Any) -> dict:
    """What a researcher types for a valid notification on /police/new/ (then "Add")."""
    when = (clock.now() - dt.timedelta(hours=2)).astimezone(clock.LONDON)
    data: dict[str, Any] = {
        "action": "submit",
        "force": str(force_.pk),
        "occurrence_reference": f"RVP/{next(_refs):05d}/26",
        "incident_date-day": str(when.day),
        "incident_date-month": str(when.month),
        "incident_date-year": str(when.year),
        "incident_time": when.strftime("%H:%M"),
        "incident_type": "domestic_abuse",
        "dash_risk": "high",
        "location": "12 Mill Lane, Riverton",
        "narrative": "Officers attended; two children present, both seen.",
        "officer_name": "PC Jo Bell",
        "officer_collar_number": "4521",
        "officer_team": "Riverton response",
        "children-TOTAL_FORMS": str(children),
        "adults-TOTAL_FORMS": str(adults),
    }
    for i in range(children):
        data.update(
            {
                f"children-{i}-given_name": ["Amelia", "Leo", "Ivy"][i % 3],
                f"children-{i}-family_name": "Hart",
                f"children-{i}-date_of_birth-day": "4",
                f"children-{i}-date_of_birth-month": "5",
                f"children-{i}-date_of_birth-year": str(2018 + i),
                f"children-{i}-seen": "yes",
                f"children-{i}-spoken_to": "no",
            }
        )
    for i in range(adults):
        data.update(
            {
                f"adults-{i}-given_name": ["Dawn", "Craig"][i % 2],
                f"adults-{i}-family_name": "Hart",
                f"adults-{i}-role": ["victim", "suspect"][i % 2],
            }
        )
    data.update(overrides)
    return data
