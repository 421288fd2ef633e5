"""One factory per state, made through the services where the services own the rule."""

from __future__ import annotations

import itertools
from typing import Any

from mash.accounts import services as account_services
from mash.accounts.models import Agency, AgencyKind, Role, User

PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count(1)


def agency(**overrides: Any) -> Agency:
    n = next(_counter)
    fields: dict[str, Any] = {"name": f"Agency {n}", "kind": AgencyKind.OTHER}
    fields.update(overrides)
    return account_services.create_agency(actor=None, **fields)


def user(*roles: str, agency_: Agency | None = None, **overrides: Any) -> User:
    n = next(_counter)
    fields: dict[str, Any] = {
        "email": f"user{n}@hub.example",
        "full_name": f"Test User {n}",
        "agency": agency_ or agency(),
        "roles": roles,
        "password": PASSWORD,
        "send_invitation": False,
    }
    fields.update(overrides)
    return account_services.create_user(actor=None, **fields)


def hub_manager(**kw: Any) -> User:
    return user(Role.HUB_MANAGER, **kw)


def coordinator(**kw: Any) -> User:
    return user(Role.REFERRAL_COORDINATOR, **kw)


def practitioner(**kw: Any) -> User:
    return user(Role.AGENCY_PRACTITIONER, **kw)


def police_researcher(**kw: Any) -> User:
    kw.setdefault("agency_", agency(kind=AgencyKind.POLICE))
    return user(Role.POLICE_RESEARCHER, **kw)


def advice_line_worker(**kw: Any) -> User:
    return user(Role.ADVICE_LINE_WORKER, **kw)


def analyst(**kw: Any) -> User:
    return user(Role.ANALYST, **kw)


def administrator(**kw: Any) -> User:
    return user(Role.ADMINISTRATOR, **kw)


ROLE_FACTORIES = {
    Role.HUB_MANAGER: hub_manager,
    Role.REFERRAL_COORDINATOR: coordinator,
    Role.AGENCY_PRACTITIONER: practitioner,
    Role.POLICE_RESEARCHER: police_researcher,
    Role.ADVICE_LINE_WORKER: advice_line_worker,
    Role.ANALYST: analyst,
    Role.ADMINISTRATOR: administrator,
}
