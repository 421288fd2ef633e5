"""The responsible local authority and transfers, through the services: who may, what is
checked, what a transfer closes, what is audited, and what two managers at once get."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mash.accounts.models import Role
from mash.core.concurrency import Conflict
from mash.core.models import AuditEvent, Hub
from mash.enquiries import services
from mash.enquiries.models import (
    AgencyRequest,
    ClosedAs,
    Enquiry,
    EnquiryStatus,
    EnquiryTransfer,
    RequestStatus,
)
from mash.enquiries.transfer import (
    PackageChanged,
    build_package,
    responsibility,
    sent_package,
    set_responsible_la,
    transfer_enquiry,
)
from tests import factories
from tests.enquiries import journey
from tests.enquiries.test_transfer_support import (
    answer_each_sensitivity,
    enquiry_elsewhere,
    la,
    set_up_hub,
    to_camden,
)

pytestmark = pytest.mark.django_db

REASON = "The family moved to Camden in March; the children live there."


@pytest.fixture
def hub():
    set_up_hub()
    return journey.small_hub()


def _transfer(hub, enquiry, **kw):
    fields: dict[str, object] = {
        "recipient": "Camden MASH",
        "recipient_email": "mash@camden.example",
        "reason": REASON,
    }
    fields.update(kw)
    return transfer_enquiry(actor=hub.manager, enquiry=enquiry, **fields)  # type: ignore[arg-type]


# --- When an enquiry opens ---------------------------------------------------------------


def test_an_enquiry_opens_as_the_hubs_own_and_a_child_outside_the_area_is_noted(hub):
    enquiry = enquiry_elsewhere(hub, rated=False)
    assert enquiry.responsible_la is None
    event = AuditEvent.objects.get(action="enquiries.children_outside_area")
    assert event.object_id == str(enquiry.pk)
    assert event.detail["outward_codes"] == ["NW1"]
    children = [p for p in enquiry.contact.people.all() if p.role == "child"]
    found = responsibility(user=hub.manager, enquiry=enquiry, children=children)
    assert found.own
    assert found.name == "Northbridge"
    assert [c.full_name for c in found.outside] == ["Amelia Hart"]


def test_a_child_inside_the_area_or_a_hub_without_areas_is_not_flagged(hub):
    journey.open_enquiry(hub, people=[journey.child(postcode="nx1 4cd")])
    assert not AuditEvent.objects.filter(action="enquiries.children_outside_area").exists()
    set_up_hub(areas="")
    enquiry = enquiry_elsewhere(hub, rated=False)
    assert not AuditEvent.objects.filter(action="enquiries.children_outside_area").exists()
    children = [p for p in enquiry.contact.people.all() if p.role == "child"]
    found = responsibility(user=hub.manager, enquiry=enquiry, children=children)
    assert (found.outside, found.unplaced, found.areas_set) == ([], [], False)


def test_a_child_without_a_postcode_is_unplaced_not_outside(hub):
    enquiry = journey.open_enquiry(hub, people=[journey.child(postcode="")])
    children = [p for p in enquiry.contact.people.all() if p.role == "child"]
    found = responsibility(user=hub.manager, enquiry=enquiry, children=children)
    assert found.outside == []
    assert [c.full_name for c in found.unplaced] == ["Amelia Hart"]


# --- Setting the responsible authority ---------------------------------------------------


@pytest.mark.parametrize("role", [Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR])
def test_a_manager_or_coordinator_sets_another_authority_audited(hub, role):
    enquiry = enquiry_elsewhere(hub)
    actor = factories.ROLE_FACTORIES[role]()
    before = enquiry.version
    set_responsible_la(
        actor=actor,
        enquiry=enquiry,
        local_authority=la("202"),
        reason=REASON,
        expected_version=before,
    )
    enquiry.refresh_from_db()
    assert enquiry.responsible_la == la("202")
    assert enquiry.version == before + 1
    event = AuditEvent.objects.get(action="enquiries.responsible_la_set")
    assert event.actor == actor
    assert event.detail == {"from": None, "to": "202", "reason": REASON}


@pytest.mark.parametrize(
    "role",
    [
        Role.AGENCY_PRACTITIONER,
        Role.POLICE_RESEARCHER,
        Role.ADVICE_LINE_WORKER,
        Role.ANALYST,
        Role.ADMINISTRATOR,
    ],
)
def test_no_one_else_may_set_it(hub, role):
    enquiry = enquiry_elsewhere(hub)
    with pytest.raises(PermissionDenied):
        set_responsible_la(
            actor=factories.ROLE_FACTORIES[role](),
            enquiry=enquiry,
            local_authority=la("202"),
            reason=REASON,
        )
    enquiry.refresh_from_db()
    assert enquiry.responsible_la is None
    assert not AuditEvent.objects.filter(action="enquiries.responsible_la_set").exists()


def test_back_to_the_hubs_own_and_the_hubs_own_code_means_own(hub):
    hub_row = Hub.load()
    hub_row.la_code = "210"
    hub_row.save()
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    set_responsible_la(actor=hub.manager, enquiry=enquiry, local_authority=None, reason="Wrong")
    enquiry.refresh_from_db()
    assert enquiry.responsible_la is None
    with pytest.raises(ValidationError) as error:
        # Southwark (210) is this hub's own authority: choosing it is choosing "own".
        set_responsible_la(
            actor=hub.manager, enquiry=enquiry, local_authority=la("210"), reason="Again"
        )
    assert "already the responsible authority" in str(error.value.message_dict)


@pytest.mark.parametrize(
    ("code", "reason", "field", "message"),
    [
        ("202", "", "reason", "Enter why this authority is responsible"),
        ("202", "   ", "reason", "Enter why this authority is responsible"),
        ("202", "x" * 501, "reason", "The reason must be 500 characters or fewer"),
        ("909", REASON, "local_authority", "Cumbria no longer exists"),
        (None, REASON, "local_authority", "already the responsible authority"),
    ],
)
def test_what_is_wrong_is_said_next_to_the_field(hub, code, reason, field, message):
    enquiry = enquiry_elsewhere(hub)
    with pytest.raises(ValidationError) as error:
        set_responsible_la(
            actor=hub.manager,
            enquiry=enquiry,
            local_authority=la(code) if code else None,
            reason=reason,
        )
    assert message in " ".join(error.value.message_dict[field])
    enquiry.refresh_from_db()
    assert enquiry.responsible_la is None


def test_a_stale_page_or_a_closed_enquiry_is_a_conflict(hub):
    enquiry = enquiry_elsewhere(hub)
    stale = enquiry.version
    to_camden(hub, enquiry)
    with pytest.raises(Conflict) as conflict:
        set_responsible_la(
            actor=hub.manager,
            enquiry=enquiry,
            local_authority=la("201"),
            reason=REASON,
            expected_version=stale,
        )
    assert "Someone else changed this enquiry" in conflict.value.message
    _transfer(hub, enquiry)
    with pytest.raises(Conflict) as conflict:
        set_responsible_la(
            actor=hub.manager, enquiry=enquiry, local_authority=la("201"), reason=REASON
        )
    assert conflict.value.message == "This enquiry has already been transferred."
    assert isinstance(conflict.value.current, EnquiryTransfer)


# --- Transferring ------------------------------------------------------------------------


def test_a_transfer_records_the_package_closes_the_enquiry_and_stops_pending_requests(
    hub, time_machine
):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    answer_each_sensitivity(hub, enquiry)
    enquiry.refresh_from_db()
    record = _transfer(hub, enquiry, expected_version=enquiry.version)

    assert (record.to_la, record.recipient, record.recipient_email) == (
        la("202"),
        "Camden MASH",
        "mash@camden.example",
    )
    assert record.sent_by == hub.manager
    enquiry.refresh_from_db()
    assert enquiry.status == EnquiryStatus.CLOSED
    assert enquiry.closed_as == ClosedAs.TRANSFERRED
    assert enquiry.closed_at == record.sent_at
    health = journey.request_for(enquiry, hub.health)
    assert health.status == RequestStatus.NOT_REQUIRED
    assert health.not_required_reason == (
        "The enquiry was transferred to Camden before this agency answered."
    )
    assert health.not_required_by == hub.manager
    answered = AgencyRequest.objects.filter(enquiry=enquiry, status=RequestStatus.ANSWERED)
    assert answered.count() == 3

    package = sent_package(user=hub.manager, transfer=record)
    assert record.package_sha256 == hashlib.sha256(package.content).hexdigest()
    assert len(record.package_sha256) == 64
    actions = list(
        AuditEvent.objects.filter(object_id=str(enquiry.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["enquiries.enquiry_transferred", "enquiries.enquiry_closed"]
    event = AuditEvent.objects.get(action="enquiries.enquiry_transferred")
    assert event.detail["to"] == "202"
    assert event.detail["package_sha256"] == record.package_sha256
    assert event.detail["requests_stopped"] == 1
    assert event.detail["from_hub"] == "Northbridge MASH"


@pytest.mark.parametrize(
    "role",
    [
        Role.REFERRAL_COORDINATOR,
        Role.AGENCY_PRACTITIONER,
        Role.POLICE_RESEARCHER,
        Role.ADVICE_LINE_WORKER,
        Role.ANALYST,
        Role.ADMINISTRATOR,
    ],
)
def test_only_a_hub_manager_may_transfer(hub, role):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    with pytest.raises(PermissionDenied):
        transfer_enquiry(
            actor=factories.ROLE_FACTORIES[role](),
            enquiry=enquiry,
            recipient="Camden MASH",
            reason=REASON,
        )
    assert not EnquiryTransfer.objects.exists()
    enquiry.refresh_from_db()
    assert enquiry.is_open


def test_an_enquiry_the_hub_is_responsible_for_cannot_be_transferred(hub):
    enquiry = enquiry_elsewhere(hub)
    with pytest.raises(ValidationError) as error:
        _transfer(hub, enquiry)
    assert "Set the responsible local authority" in error.value.messages[0]
    assert not EnquiryTransfer.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"recipient": ""}, "recipient", "Enter the team or person the enquiry is going to"),
        ({"recipient": "x" * 201}, "recipient", "200 characters or fewer"),
        ({"recipient_email": "not an email"}, "recipient_email", "correct format"),
        ({"recipient_email": "a@" + "b" * 260 + ".example"}, "recipient_email", "254"),
        ({"reason": "  "}, "reason", "Enter why the enquiry is being transferred"),
        ({"reason": "x" * 20_001}, "reason", "characters or fewer"),
    ],
)
def test_a_transfer_checks_what_it_is_given(hub, changes, field, message):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    with pytest.raises(ValidationError) as error:
        _transfer(hub, enquiry, **changes)
    assert message in " ".join(error.value.message_dict[field])
    enquiry.refresh_from_db()
    assert enquiry.is_open
    assert not EnquiryTransfer.objects.exists()


def test_an_enquiry_whose_authority_was_abolished_cannot_be_transferred(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    la("202").__class__.objects.filter(code="202").update(is_active=False)
    with pytest.raises(ValidationError) as error:
        _transfer(hub, enquiry)
    assert "Camden no longer exists" in error.value.messages[0]


def test_a_second_transfer_is_a_conflict_naming_the_first(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    seen = Enquiry.objects.get(pk=enquiry.pk).version
    first = _transfer(hub, enquiry, expected_version=seen)
    other = factories.hub_manager()
    with pytest.raises(Conflict) as conflict:
        transfer_enquiry(
            actor=other,
            enquiry=enquiry,
            recipient="Camden front door",
            reason="Also moving them",
            expected_version=seen,
        )
    assert conflict.value.message == "This enquiry has already been transferred."
    assert conflict.value.current == first
    assert EnquiryTransfer.objects.count() == 1
    assert AuditEvent.objects.filter(action="enquiries.enquiry_transferred").count() == 1


def test_a_stale_version_is_a_conflict(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    with pytest.raises(Conflict) as conflict:
        _transfer(hub, enquiry, expected_version=enquiry.version - 1)
    assert "Someone else changed this enquiry" in conflict.value.message
    assert not EnquiryTransfer.objects.exists()


def test_a_decided_enquiry_cannot_be_transferred(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=services.children_of(enquiry)[0],
        outcome="nfa",
        primary_need="N9",
        rationale="Nothing to do",
        next_team="None",
        pending_reason="Clear already",
    )
    with pytest.raises(Conflict) as conflict:
        _transfer(hub, enquiry)
    assert conflict.value.message == "This enquiry has been closed."


def test_after_a_transfer_the_hub_cannot_decide_or_take_answers(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    _transfer(hub, enquiry)
    with pytest.raises(Conflict):
        services.decide(
            actor=hub.manager,
            enquiry=enquiry,
            child=services.children_of(enquiry)[0],
            outcome="nfa",
            primary_need="N9",
            rationale="Late",
            next_team="None",
            pending_reason="Late",
        )
    with pytest.raises(Conflict):
        services.answer_request(
            actor=hub.practitioners["health"],
            request=journey.request_for(enquiry, hub.health),
            nothing_held=True,
        )


# --- The package -------------------------------------------------------------------------


def test_the_package_leaves_out_mash_only_content_and_holds_the_shareable_facts(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    answer_each_sensitivity(hub, enquiry)
    record = _transfer(hub, enquiry)
    package = sent_package(user=hub.manager, transfer=record)
    text = package.content.decode()
    assert "Covert intelligence" not in text
    assert "55-ALPHA" not in text
    data = json.loads(text)
    assert data["schema"] == "mash-transfer-package"
    assert data["schema_version"] == "1.0"
    assert data["status"] == "sent"
    assert data["transfer"]["to_la"] == {"code": "202", "name": "Camden"}
    assert data["transfer"]["from_la"] == {"code": None, "name": "Northbridge"}
    assert data["transfer"]["reason"] == REASON
    child = data["children"][0]
    assert (child["given_name"], child["date_of_birth"]) == ("Amelia", "2018-05-04")
    assert (child["nhs_number"], child["upn"]) == ("9434765919", "C204123456789")
    assert child["address"]["postcode"] == "NW1 8AB"
    adult = data["adults"][0]
    assert adult["relationships"] == [
        {"child": "child-1", "relationship": {"code": "parent", "label": "Parent"}}
    ]
    assert data["contact"]["concern"].startswith("Amelia came to school with bruising")
    assert data["consent"]["latest"]["status"]["code"] == "given"
    assert data["ratings"][0]["rationale"] == "Injury to a young child."
    agencies = {a["agency"]: a for a in data["agency_information"]}
    assert set(agencies) == {"Education", "Children's Social Care"}  # not Police
    assert agencies["Education"]["items"][0]["summary"] == "Attendance 71 percent this term"
    assert agencies["Education"]["items"][0]["risk_indicators"] == [
        {"code": "neglect", "label": "Neglect"}
    ]


def test_the_package_as_sent_survives_renaming_the_hub_and_later_changes(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    answer_each_sensitivity(hub, enquiry)
    services.propose_override(
        actor=hub.coordinator,
        enquiry=enquiry,
        grounds=["significant_harm"],
        justification="Proposed before the transfer",
    )
    record = _transfer(hub, enquiry)
    before = sent_package(user=hub.manager, transfer=record).sha256
    # The hub renamed; an override authorised after the transfer: neither was sent.
    Hub.objects.filter(pk=1).update(name="Renamed MASH", local_authority_name="Renamed")
    override = enquiry.overrides.get()
    services.decide_override(actor=hub.manager, override=override, authorise=True)
    assert sent_package(user=hub.manager, transfer=record).sha256 == before == record.package_sha256


def test_a_decision_amended_after_the_transfer_is_shown_as_it_was_sent(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub, brother=True))
    child = services.children_of(enquiry)[0]
    decision = services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=child,
        outcome="early_help",
        primary_need="N4",
        rationale="Support at home",
        next_team="Early Help North",
        lead_professional_agency=hub.education,
        pending_reason="Clear enough",
        themes=["neglect"],
    )
    # Amelia decided; Leo's decision is still to make, so the enquiry is open to transfer.
    enquiry.refresh_from_db()
    assert enquiry.is_open
    record = _transfer(hub, enquiry)
    sent = sent_package(user=hub.manager, transfer=record)
    services.amend_decision(actor=hub.manager, decision=decision, reason="Typo", rationale="New")
    again = sent_package(user=hub.manager, transfer=record)
    assert again.sha256 == sent.sha256
    assert again.data["decisions"][0]["rationale"] == "Support at home"


def test_a_changed_record_is_detected_not_served(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    answer_each_sensitivity(hub, enquiry)
    record = _transfer(hub, enquiry)
    hub.education.name = "Schools Service"
    hub.education.save()
    with pytest.raises(PackageChanged):
        sent_package(user=hub.manager, transfer=record)


def test_a_preview_says_so_and_names_no_recipient(hub):
    enquiry = to_camden(hub, enquiry_elsewhere(hub))
    preview = build_package(user=hub.manager, enquiry=enquiry, to_la=enquiry.responsible_la)
    assert preview.data["status"] == "preview"
    assert preview.data["transfer"]["recipient"] is None
    assert preview.data["transfer"]["sent_at"] is None
    assert preview.data["transfer"]["to_la"]["code"] == "202"


def test_hostile_text_is_kept_as_text_in_the_json(hub):
    hostile = '</script><script>alert("x")</script> "quoted" \\ back\u2028line'
    enquiry = to_camden(hub, enquiry_elsewhere(hub, concern=hostile))
    record = _transfer(hub, enquiry, reason=hostile, recipient='<b>Camden</b> "MASH"')
    data = json.loads(sent_package(user=hub.manager, transfer=record).content)
    assert data["contact"]["concern"] == hostile
    assert data["transfer"]["reason"] == hostile
    assert data["transfer"]["recipient"] == '<b>Camden</b> "MASH"'
