"""Who may do what: rules predicates, one permission per action.

Views, services and selectors ask `user.has_perm("<permission>", obj)`; the
predicates below are the only place a role is turned into a right.
"""

from __future__ import annotations

from typing import Any

import rules

from mash.accounts.models import Role


def _has_role(role: str) -> Any:
    @rules.predicate(name=f"has_role_{role}")
    def predicate(user: Any) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and user.has_role(role)

    return predicate


is_hub_manager = _has_role(Role.HUB_MANAGER)
is_referral_coordinator = _has_role(Role.REFERRAL_COORDINATOR)
is_agency_practitioner = _has_role(Role.AGENCY_PRACTITIONER)
is_advice_line_worker = _has_role(Role.ADVICE_LINE_WORKER)
is_analyst = _has_role(Role.ANALYST)
is_administrator = _has_role(Role.ADMINISTRATOR)

# Case data: the records of children and the adults around them. Administrators
# and analysts hold no role here, so they never reach a case page.
is_case_worker = (
    is_hub_manager | is_referral_coordinator | is_agency_practitioner | is_advice_line_worker
)

# The hub's people and agencies.
rules.add_perm("accounts.manage_agencies", is_administrator)
rules.add_perm("accounts.manage_users", is_administrator)
rules.add_perm("core.manage_hub", is_administrator)

# The audit log: who did what.
rules.add_perm("core.view_audit_log", is_hub_manager | is_administrator)

# Case data (the person index now; contacts and enquiries as they arrive).
rules.add_perm("people.view_person_index", is_case_worker)
rules.add_perm("people.add_person", is_hub_manager | is_referral_coordinator)
