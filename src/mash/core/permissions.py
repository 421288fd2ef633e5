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
is_police_researcher = _has_role(Role.POLICE_RESEARCHER)
is_advice_line_worker = _has_role(Role.ADVICE_LINE_WORKER)
is_analyst = _has_role(Role.ANALYST)
is_administrator = _has_role(Role.ADMINISTRATOR)

# Case data: the records of children and the adults around them. Administrators
# and analysts hold no role here, so they never reach a case page.
is_case_worker = (
    is_hub_manager
    | is_referral_coordinator
    | is_agency_practitioner
    | is_advice_line_worker
    | is_police_researcher
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
# Submitting a contact adds its new people to the index, whoever may record it.
rules.add_perm(
    "people.add_person_from_contact",
    is_hub_manager | is_referral_coordinator | is_police_researcher | is_advice_line_worker,
)


# Contacts and enquiries (DOMAIN.md, "Who uses it").
@rules.predicate
def is_requests_agency(user: Any, request: Any) -> bool:
    """The request was sent to the user's own agency."""
    return (
        request is not None and user.agency_id is not None and (request.agency_id == user.agency_id)
    )


is_hub_case_worker = is_hub_manager | is_referral_coordinator

# Police researchers and advice-line workers progress what they screen to a contact,
# through the same contact form, but neither screens contacts nor sees the list.
rules.add_perm("contacts.record", is_hub_case_worker | is_police_researcher | is_advice_line_worker)
rules.add_perm("contacts.view", is_hub_case_worker)
rules.add_perm("contacts.screen", is_hub_case_worker)
rules.add_perm("enquiries.view", is_hub_case_worker)
rules.add_perm("enquiries.record_consent", is_hub_case_worker)
rules.add_perm("enquiries.propose_override", is_hub_case_worker)
rules.add_perm("enquiries.authorise_override", is_hub_manager)
rules.add_perm("enquiries.propose_rating", is_hub_case_worker)
rules.add_perm("enquiries.rate", is_hub_manager)
rules.add_perm("enquiries.decide", is_hub_manager)
rules.add_perm("enquiries.view_mash_only", is_hub_manager)
rules.add_perm(
    "enquiries.view_request", is_hub_case_worker | (is_agency_practitioner & is_requests_agency)
)
rules.add_perm("enquiries.answer_request", is_agency_practitioner & is_requests_agency)
rules.add_perm("enquiries.agency_queue", is_agency_practitioner)
rules.add_perm("people.search", is_hub_case_worker | is_advice_line_worker | is_police_researcher)
rules.add_perm("people.view_record", is_hub_case_worker)
# Outcome documents (the report for the team that acts next, the referrer's letter).
rules.add_perm("enquiries.outcome_documents", is_hub_case_worker)

# The board and its wall screens.
rules.add_perm("enquiries.manage_board_screens", is_administrator)
rules.add_perm("enquiries.view_board", is_hub_manager)
rules.add_perm("core.manage_teams", is_administrator)

# Police notifications: received from the force's systems, by CSV or by hand; triaged
# in the hub by police researchers (and hub managers, who cover for them).
is_triager = is_hub_manager | is_police_researcher
rules.add_perm("contacts.triage_police", is_triager)
rules.add_perm("contacts.record_police", is_triager)
# The quality report holds counts per police team and month: no case data.
rules.add_perm("contacts.police_quality_report", is_triager | is_analyst)
rules.add_perm("api.manage_tokens", is_administrator)

# The professionals' advice line.
rules.add_perm("contacts.advice_line", is_advice_line_worker | is_hub_manager)
rules.add_perm("contacts.advice_figures", is_advice_line_worker | is_hub_manager | is_analyst)

# Children who cross borders.
rules.add_perm("enquiries.set_responsible_la", is_hub_case_worker)
rules.add_perm("enquiries.transfer", is_hub_manager)

# Reports (docs/decisions: figures are computed in the database; analysts see no one).
rules.add_perm("reporting.performance", is_hub_manager | is_analyst)
rules.add_perm("reporting.themes", is_analyst | is_hub_manager)
# A row per child, pseudonymised: analysts only (and hub managers, who see everything anyway).
rules.add_perm("reporting.pseudonymised_extract", is_analyst | is_hub_manager)
# Statutory returns name children (the census XML, Ofsted's lists): the hub's managers.
rules.add_perm("reporting.statutory_returns", is_hub_manager)
rules.add_perm("reporting.load_wards", is_administrator | is_analyst)
