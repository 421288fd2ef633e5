"""Writes for the core app. Each runs in one transaction and audits itself."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from mash.core import audit
from mash.core.models import ClosureDay, Hub, Team

if TYPE_CHECKING:
    from mash.accounts.models import User


@transaction.atomic
def update_hub(
    *,
    actor: User | None,
    name: str,
    local_authority_name: str,
    la_code: str,
    postcode_areas: str | None = None,
) -> Hub:
    """Saves the hub's settings; actor None is the command line. postcode_areas None: kept."""
    if actor is not None and not actor.has_perm("core.manage_hub"):
        raise PermissionDenied
    hub = Hub.objects.select_for_update().get_or_create(pk=1)[0]
    before = {
        "name": hub.name,
        "local_authority_name": hub.local_authority_name,
        "la_code": hub.la_code,
        "postcode_areas": hub.postcode_areas,
    }
    hub.name, hub.local_authority_name, hub.la_code = name, local_authority_name, la_code
    if postcode_areas is not None:
        hub.postcode_areas = postcode_areas
    hub.full_clean()
    hub.save()
    after = {
        "name": name,
        "local_authority_name": local_authority_name,
        "la_code": la_code,
        "postcode_areas": hub.postcode_areas,
    }
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    audit.record(
        action="core.hub_updated",
        actor=actor,
        obj=hub,
        detail={"changed": changed},
        actor_label="" if actor else "system",
    )
    return hub


CLOCK_FIELDS = (
    "urgent_amount",
    "urgent_unit",
    "red_amount",
    "red_unit",
    "amber_amount",
    "amber_unit",
    "green_amount",
    "green_unit",
    "working_weekdays",
    "opens_at",
    "closes_at",
    "skip_bank_holidays",
)


@transaction.atomic
def update_clocks(*, actor: User | None, **values: Any) -> Hub:
    """Saves how long agencies have per RAG and when working time counts.

    New deadlines use them; deadlines already running keep theirs.
    """
    if actor is not None and not actor.has_perm("core.manage_hub"):
        raise PermissionDenied
    unknown = set(values) - set(CLOCK_FIELDS)
    if unknown:
        raise TypeError(f"update_clocks() got unexpected fields {sorted(unknown)}")
    hub = Hub.objects.select_for_update().get_or_create(pk=1)[0]
    changed = {}
    for name, value in values.items():
        old = getattr(hub, name)
        if old != value:
            changed[name] = [str(old), str(value)]
            setattr(hub, name, value)
    hub.calendar()  # refuses an impossible working week before it is saved
    hub.full_clean()
    hub.save()
    if changed:
        audit.record(
            action="core.clocks_updated",
            actor=actor,
            obj=hub,
            detail={"changed": changed},
            actor_label="" if actor else "system",
        )
    return hub


@transaction.atomic
def add_closure_day(*, actor: User | None, day: dt.date, description: str = "") -> ClosureDay:
    """Adds a day the hub is closed (working time skips it)."""
    if actor is not None and not actor.has_perm("core.manage_hub"):
        raise PermissionDenied
    closure, created = ClosureDay.objects.get_or_create(
        day=day, defaults={"description": description.strip()}
    )
    if created:
        audit.record(
            action="core.closure_day_added",
            actor=actor,
            obj=closure,
            detail={"day": day.isoformat()},
            actor_label="" if actor else "system",
        )
    return closure


@transaction.atomic
def remove_closure_day(*, actor: User | None, closure: ClosureDay) -> None:
    if actor is not None and not actor.has_perm("core.manage_hub"):
        raise PermissionDenied
    audit.record(
        action="core.closure_day_removed",
        actor=actor,
        obj=closure,
        detail={"day": closure.day.isoformat()},
        actor_label="" if actor else "system",
    )
    ClosureDay.objects.filter(pk=closure.pk).delete()


# Teams in the hub (an enquiry is allocated to one; a wall screen can show one).

TEAM_NAME_MAX = 80


def _team_name(name: str, *, exclude: int | None = None) -> str:
    """A clean, unique team name, or a ValidationError in plain English."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": ["Enter the team's name"]})
    if len(name) > TEAM_NAME_MAX:
        raise ValidationError({"name": [f"Team name must be {TEAM_NAME_MAX} characters or fewer"]})
    clash = Team.objects.filter(name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise ValidationError({"name": ["A team with this name already exists"]})
    return name


@transaction.atomic
def create_team(*, actor: User | None, name: str) -> Team:
    """Adds a team; names are unique whatever their capitals."""
    if actor is not None and not actor.has_perm("core.manage_teams"):
        raise PermissionDenied
    clean = _team_name(name)
    try:
        with transaction.atomic():
            team = Team.objects.create(name=clean)
    except IntegrityError:  # the same name, added by someone else a moment ago
        raise ValidationError({"name": ["A team with this name already exists"]}) from None
    audit.record(
        action="core.team_created",
        actor=actor,
        obj=team,
        detail={"name": team.name},
        actor_label="" if actor else "system",
    )
    return team


@transaction.atomic
def update_team(
    *, actor: User | None, team: Team, name: str | None = None, is_active: bool | None = None
) -> Team:
    """Renames a team, or deactivates or reactivates it; records what changed.

    A deactivated team is offered for no new allocation; enquiries keep it.
    """
    if actor is not None and not actor.has_perm("core.manage_teams"):
        raise PermissionDenied
    team = Team.objects.select_for_update().get(pk=team.pk)
    changed: dict[str, list[Any]] = {}
    if name is not None:
        clean = _team_name(name, exclude=team.pk)
        if clean != team.name:
            changed["name"] = [team.name, clean]
            team.name = clean
    if is_active is not None and is_active != team.is_active:
        changed["is_active"] = [team.is_active, is_active]
        team.is_active = is_active
    if changed:
        try:
            with transaction.atomic():
                team.save()
        except IntegrityError:  # renamed to a name added by someone else a moment ago
            raise ValidationError({"name": ["A team with this name already exists"]}) from None
        audit.record(
            action="core.team_updated",
            actor=actor,
            obj=team,
            detail={"changed": changed},
            actor_label="" if actor else "system",
        )
    return team
