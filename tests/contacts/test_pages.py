"""The contact pages through the Django test client: record, draft, match, submit, screen."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from mash.contacts.models import (
    Contact,
    ContactPerson,
    ContactRelationship,
    ContactStatus,
    ScreeningOutcome,
)
from mash.core.models import AuditEvent
from mash.enquiries.models import Enquiry
from mash.people.models import Person, PersonAlias
from tests.contacts.test_pages_support import (
    NOW,
    adult_fields,
    checked,
    child_fields,
    error_for,
    selected,
    summary_links,
    text,
    textarea,
    valid_post,
    value_of,
)
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hub():
    return journey.small_hub()


@pytest.fixture
def coordinator(hub, signed_in):
    return signed_in(hub.coordinator)


@pytest.fixture
def manager(hub, signed_in):
    return signed_in(hub.manager)


def _draft(client, data=None) -> Contact:
    response = client.post("/contacts/new/", {**(data or valid_post()), "action": "save"})
    assert response.status_code == 302
    return Contact.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-2]))


# --- The journey -------------------------------------------------------------------------------


def test_the_whole_journey_from_a_new_draft_to_an_enquiry(hub, coordinator, manager):
    assert "Record a contact" in text(coordinator.get("/contacts/new/").content)

    # Half-typed: saved as a draft.
    partial = valid_post(concern="", referrer_name="Sam Tea")
    response = coordinator.post("/contacts/new/", {**partial, "action": "save"})
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/edit/"
    assert contact.status == ContactStatus.DRAFT
    assert contact.created_by == hub.coordinator

    # Reopened: what was typed is back.
    page = coordinator.get(response["Location"])
    assert "Draft C-" in text(page.content) or f"Contact {contact.reference}" in text(page.content)
    assert value_of(page.content, "referrer_name") == "Sam Tea"
    assert value_of(page.content, "children-0-given_name") == "Amelia"
    assert value_of(page.content, "version") == str(contact.version)
    assert summary_links(page.content) == {}  # a draft reopens without a wall of errors

    # Submitted with an error: every value kept, the message next to the field, draft saved.
    bad = valid_post(concern="", referrer_name="Sam Teacher")
    bad["version"] = str(contact.version)
    page = coordinator.post(f"/contacts/{contact.pk}/edit/", bad)
    assert page.status_code == 200
    assert error_for(page.content, "id_concern") == "Enter the concern in the referrer's words"
    assert summary_links(page.content) == {
        "Enter the concern in the referrer's words": "id_concern"
    }
    assert "<title>Error: " in page.content.decode()
    assert value_of(page.content, "referrer_name") == "Sam Teacher"
    assert value_of(page.content, "children-0-nhs_number") == "943 476 5919"
    contact.refresh_from_db()
    assert contact.status == ContactStatus.DRAFT
    assert contact.draft["referrer_name"] == ["Sam Teacher"]
    assert value_of(page.content, "version") == str(contact.version)

    # Submitted valid.
    good = valid_post()
    good["version"] = str(contact.version)
    response = coordinator.post(f"/contacts/{contact.pk}/edit/", good)
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/"
    contact.refresh_from_db()
    assert contact.status == ContactStatus.AWAITING_SCREENING
    assert contact.draft == {}
    assert contact.received_at == NOW - dt.timedelta(hours=1)
    assert contact.referrer_phone == "01632 960 001"
    child, adult = contact.people.order_by("role", "position").values_list("role", flat=True)
    assert (child, adult) == ("adult", "child")
    amelia = ContactPerson.objects.get(contact=contact, role="child")
    assert amelia.nhs_number == "9434765919"
    assert amelia.postcode == "RV1 2AB"
    assert amelia.school == "Riverside Primary"
    household = amelia.person.household
    assert household is not None
    assert household.address.line_1 == "12 Mill Lane"
    relationship = ContactRelationship.objects.get(contact=contact)
    assert (relationship.adult.given_name, relationship.relationship) == ("Dawn", "parent")

    # The contact page, then screening to an enquiry (by the manager).
    page = manager.get(f"/contacts/{contact.pk}/")
    shown = text(page.content)
    assert "Amelia Hart" in shown
    assert "943 476 5919" in shown
    assert "Parent" in shown
    assert f'href="/people/{amelia.person_id}/"' in page.content.decode()
    response = manager.post(
        f"/contacts/{contact.pk}/",
        {
            "outcome": ScreeningOutcome.PROGRESS,
            "reason": "Bruising: needs checks.",
            "version": contact.version,
        },
    )
    enquiry = Enquiry.objects.get(contact=contact)
    assert response.status_code == 302
    assert response["Location"] == f"/enquiries/{enquiry.pk}/"
    contact.refresh_from_db()
    assert contact.status == ContactStatus.SCREENED
    assert contact.screened_by == hub.manager
    shown = text(coordinator.get(f"/contacts/{contact.pk}/").content)
    assert "Progress to MASH enquiry" in shown
    assert "Bruising: needs checks." in shown


def test_a_new_contact_starts_received_now_with_one_child_and_one_adult(coordinator):
    page = coordinator.get("/contacts/new/")
    assert value_of(page.content, "received_date-day") == "11"
    assert value_of(page.content, "received_date-month") == "6"
    assert value_of(page.content, "received_time") == "10:30"  # London time
    assert value_of(page.content, "children-TOTAL_FORMS") == "1"
    assert value_of(page.content, "adults-TOTAL_FORMS") == "1"
    assert checked(page.content, "children-0-sex") == ["U"]
    assert selected(page.content, "children-0-ethnicity") == "NOBT"


def test_submitting_a_new_contact_with_errors_saves_a_draft_and_carries_on_in_it(coordinator):
    page = coordinator.post("/contacts/new/", valid_post(concern=""))
    contact = Contact.objects.get()
    assert contact.status == ContactStatus.DRAFT
    assert f'action="/contacts/{contact.pk}/edit/"' in page.content.decode()
    assert value_of(page.content, "version") == str(contact.version)
    assert Contact.objects.count() == 1


def test_a_valid_new_contact_is_submitted_in_one_go(coordinator):
    response = coordinator.post("/contacts/new/", valid_post())
    contact = Contact.objects.get()
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert contact.status == ContactStatus.AWAITING_SCREENING
    assert Person.objects.count() == 2


def test_an_anonymous_referrer_needs_no_name(coordinator):
    data = valid_post(referrer_anonymous="on", referrer_name="", referral_source="9")
    response = coordinator.post("/contacts/new/", data)
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert contact.referrer_anonymous
    assert "Anonymous" in text(coordinator.get(f"/contacts/{contact.pk}/").content)


def test_an_unborn_child_is_recorded_with_a_due_date(coordinator):
    due = dt.date(2025, 9, 1)
    data = valid_post(
        **child_fields(
            0,
            given_name="Unborn",
            date_of_birth=None,
            expected_date_of_birth=due,
            nhs_number="",
            school="",
        )
    )
    assert coordinator.post("/contacts/new/", data).status_code == 302
    unborn = ContactPerson.objects.get(role="child")
    assert unborn.expected_date_of_birth == due
    assert unborn.person.is_unborn
    assert "Due date (unborn)" in text(coordinator.get(f"/contacts/{unborn.contact_id}/").content)


# --- Adding and removing people ----------------------------------------------------------------


def test_adding_a_child_keeps_everything_and_focuses_the_new_block(coordinator):
    page = coordinator.post("/contacts/new/", valid_post(action="add:children"))
    assert page.status_code == 200
    assert value_of(page.content, "children-TOTAL_FORMS") == "2"
    assert value_of(page.content, "children-0-given_name") == "Amelia"
    assert value_of(page.content, "children-1-given_name") == ""
    assert checked(page.content, "children-1-sex") == ["U"]
    assert 'id="id_children-1-given_name" name="children-1-given_name" type="text" autofocus' in (
        page.content.decode()
    ) or "autofocus" in _tag(page.content, "children-1-given_name")
    # The adult now has a relationship to each child.
    assert selected(page.content, "adults-0-relationship_0") == "parent"
    assert selected(page.content, "adults-0-relationship_1") == ""
    assert summary_links(page.content) == {}
    assert not Contact.objects.exists()  # adding a block saves nothing


def _tag(content: bytes, name: str) -> str:
    import re

    match = re.search(rf'<input\b[^>]*name="{re.escape(name)}"[^>]*>', content.decode())
    return match.group(0) if match else ""


def test_removing_a_child_moves_the_later_children_and_their_relationships_up(coordinator):
    data = valid_post(children=3, adults=1)
    data.update(child_fields(1, given_name="Ben", nhs_number=""))
    data.update(child_fields(2, given_name="Cara", nhs_number=""))
    data.update(
        adult_fields(
            0, relationship_0="parent", relationship_1="step_parent", relationship_2="carer"
        )
    )
    page = coordinator.post("/contacts/new/", {**data, "action": "remove:children-1"})
    assert value_of(page.content, "children-TOTAL_FORMS") == "2"
    assert value_of(page.content, "children-0-given_name") == "Amelia"
    assert value_of(page.content, "children-1-given_name") == "Cara"
    assert selected(page.content, "adults-0-relationship_0") == "parent"
    assert selected(page.content, "adults-0-relationship_1") == "carer"
    assert "Relationship to Cara Hart" in text(page.content)
    assert "Ben" not in text(page.content)


def test_the_only_child_cannot_be_removed(coordinator):
    page = coordinator.post("/contacts/new/", valid_post(action="remove:children-0"))
    assert value_of(page.content, "children-TOTAL_FORMS") == "1"
    assert value_of(page.content, "children-0-given_name") == "Amelia"
    assert 'value="remove:children-0"' not in page.content.decode()


def test_an_adult_can_be_removed(coordinator):
    page = coordinator.post("/contacts/new/", valid_post(action="remove:adults-0"))
    assert value_of(page.content, "adults-TOTAL_FORMS") == "0"
    assert value_of(page.content, "adults-0-given_name") is None


def test_an_empty_extra_block_is_ignored_on_submit(coordinator):
    data = valid_post(children=2, adults=2)
    data.update({"children-1-sex": "U", "adults-1-ethnicity": "NOBT"})
    assert coordinator.post("/contacts/new/", data).status_code == 302
    assert ContactPerson.objects.count() == 2


def test_two_children_and_two_adults_with_relationships(coordinator):
    data = valid_post(children=2, adults=2)
    data.update(child_fields(1, given_name="Ben", date_of_birth=dt.date(2020, 1, 2), nhs_number=""))
    data.update(adult_fields(0, relationship_0="parent", relationship_1="parent"))
    data.update(
        adult_fields(
            1,
            given_name="Lee",
            family_name="Stone",
            relationship_0="partner_of_parent",
            relationship_1="alleged_harm",
        )
    )
    assert coordinator.post("/contacts/new/", data).status_code == 302
    contact = Contact.objects.get()
    pairs = {
        (r.adult.given_name, r.child.given_name, r.relationship)
        for r in ContactRelationship.objects.filter(contact=contact)
    }
    assert pairs == {
        ("Dawn", "Amelia", "parent"),
        ("Dawn", "Ben", "parent"),
        ("Lee", "Amelia", "partner_of_parent"),
        ("Lee", "Ben", "alleged_harm"),
    }
    shown = text(coordinator.get(f"/contacts/{contact.pk}/").content)
    assert "Lee Stone Person alleged to cause harm Ben Hart" in shown


# --- Drafts ------------------------------------------------------------------------------------


def test_a_draft_round_trips_every_kind_of_field(coordinator):
    data = valid_post(children=2, adults=1)
    data.update(
        {
            "referrer_anonymous": "on",
            "received_time": "9.05",  # not valid yet: kept exactly as typed
            "channel": "police_notification",
            "referral_source": "6",
            "concern": "Line one <b>bold</b>\nLine two",
        }
    )
    data.update(
        child_fields(
            1,
            given_name="Unborn",
            date_of_birth=("31", "2", "20x5"),
            expected_date_of_birth=("1", "9", "2025"),
            sex="U",
            ethnicity="NOBT",
            upn="A123456789012",
            link_to="new",
            matched="1",
        )
    )
    data.update(adult_fields(0, relationship_0="carer", relationship_1="sibling", sex="M"))
    contact = _draft(coordinator, data)
    stored = contact.draft
    for key, value in data.items():
        if key != "action":
            assert stored[key] == [str(value)], key

    page = coordinator.get(f"/contacts/{contact.pk}/edit/")
    assert checked(page.content, "referrer_anonymous") == ["on"]
    assert value_of(page.content, "received_time") == "9.05"
    assert checked(page.content, "channel") == ["police_notification"]
    assert selected(page.content, "referral_source") == "6"
    assert textarea(page.content, "concern") == "Line one <b>bold</b>\nLine two"
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.content.decode()
    assert value_of(page.content, "children-1-date_of_birth-day") == "31"
    assert value_of(page.content, "children-1-date_of_birth-year") == "20x5"
    assert value_of(page.content, "children-1-expected_date_of_birth-month") == "9"
    assert value_of(page.content, "children-1-upn") == "A123456789012"
    assert checked(page.content, "children-0-sex") == ["F"]
    assert selected(page.content, "children-0-ethnicity") == "WBRI"
    assert value_of(page.content, "children-0-school") == "Riverside Primary"
    assert value_of(page.content, "children-0-gp") == "Mill Lane Surgery"
    assert value_of(page.content, "children-0-postcode") == "rv1 2ab"
    assert checked(page.content, "adults-0-sex") == ["M"]
    assert selected(page.content, "adults-0-relationship_0") == "carer"
    assert selected(page.content, "adults-0-relationship_1") == "sibling"
    # The matching choice ("None of these") comes back too.
    assert checked(page.content, "children-1-link_to") == ["new"] or (
        value_of(page.content, "children-1-link_to") == "new"
    )
    assert summary_links(page.content) == {}


def test_saving_a_draft_twice_updates_the_same_draft(coordinator):
    contact = _draft(coordinator)
    response = coordinator.post(
        f"/contacts/{contact.pk}/edit/",
        {**valid_post(referrer_name="Changed"), "action": "save", "version": contact.version},
    )
    assert response.status_code == 302
    assert Contact.objects.count() == 1
    contact.refresh_from_db()
    assert contact.draft["referrer_name"] == ["Changed"]


def test_pressing_enter_saves_the_draft(coordinator):
    """The first submit button in the form is a hidden "Save as draft"."""
    page = coordinator.get("/contacts/new/").content.decode()
    form = page[page.index('<form method="post" action="/contacts/new/"') :]
    first_button = form[form.index("<button") : form.index("</button>")]
    assert 'value="save"' in first_button
    data = valid_post()
    del data["action"]
    assert coordinator.post("/contacts/new/", data).status_code == 302
    assert Contact.objects.get().status == ContactStatus.DRAFT


def test_a_draft_with_nul_characters_is_saved_without_them(coordinator):
    contact = _draft(coordinator, valid_post(concern="bad\x00byte"))
    assert contact.draft["concern"] == ["badbyte"]


def test_the_draft_keeps_only_the_forms_own_fields(coordinator):
    contact = _draft(coordinator, valid_post(rubbish="x" * 100, **{"children-0-evil": "y"}))
    assert "rubbish" not in contact.draft
    assert "children-0-evil" in contact.draft  # block keys are kept (harmless, ignored)
    assert "csrfmiddlewaretoken" not in contact.draft


def test_a_drafts_contact_page_opens_its_edit_page(coordinator):
    contact = _draft(coordinator)
    response = coordinator.get(f"/contacts/{contact.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/edit/"


def test_a_submitted_contact_cannot_be_edited(coordinator):
    coordinator.post("/contacts/new/", valid_post())
    contact = Contact.objects.get()
    response = coordinator.get(f"/contacts/{contact.pk}/edit/", follow=True)
    assert response.redirect_chain == [(f"/contacts/{contact.pk}/", 302)]
    assert "cannot be edited" in text(response.content)


def test_opening_a_draft_is_audited(hub, coordinator):
    contact = _draft(coordinator)
    coordinator.get(f"/contacts/{contact.pk}/edit/")
    event = AuditEvent.objects.get(action="contacts.contact.viewed")
    assert event.actor == hub.coordinator
    assert event.object_id == str(contact.pk)


# --- Two people finishing one draft ------------------------------------------------------------


def test_a_stale_draft_save_is_a_conflict_not_an_overwrite(hub, coordinator, manager):
    contact = _draft(coordinator)
    seen = contact.version
    first = manager.post(
        f"/contacts/{contact.pk}/edit/",
        {**valid_post(referrer_name="Manager's edit"), "action": "save", "version": seen},
    )
    assert first.status_code == 302
    second = coordinator.post(
        f"/contacts/{contact.pk}/edit/",
        {**valid_post(referrer_name="Co-ordinator's edit"), "action": "save", "version": seen},
    )
    assert second.status_code == 200
    shown = text(second.content)
    assert (
        f"{hub.manager.full_name} saved this draft at 10:30 while you were working on it" in shown
    )
    assert "Your changes have not been saved" in shown
    contact.refresh_from_db()
    assert contact.draft["referrer_name"] == ["Manager's edit"]
    # What the co-ordinator typed is still on their page, now at the current version.
    assert value_of(second.content, "referrer_name") == "Co-ordinator's edit"
    assert value_of(second.content, "version") == str(contact.version)
    # Saving again, knowingly, replaces it.
    again = coordinator.post(
        f"/contacts/{contact.pk}/edit/",
        {
            **valid_post(referrer_name="Co-ordinator's edit"),
            "action": "save",
            "version": contact.version,
        },
    )
    assert again.status_code == 302
    contact.refresh_from_db()
    assert contact.draft["referrer_name"] == ["Co-ordinator's edit"]


def test_two_people_submitting_one_draft_the_second_is_told(hub, coordinator, manager):
    contact = _draft(coordinator)
    seen = contact.version
    assert (
        manager.post(f"/contacts/{contact.pk}/edit/", {**valid_post(), "version": seen}).status_code
        == 302
    )
    second = coordinator.post(f"/contacts/{contact.pk}/edit/", {**valid_post(), "version": seen})
    assert second.status_code == 200
    shown = text(second.content)
    assert "Someone else has already submitted this contact" in shown
    assert f'href="/contacts/{contact.pk}/"' in second.content.decode()
    assert ContactPerson.objects.filter(contact=contact).count() == 2  # submitted once
    assert Person.objects.count() == 2


def test_a_stale_submit_of_a_changed_draft_is_a_conflict(hub, coordinator, manager):
    contact = _draft(coordinator)
    seen = contact.version
    manager.post(
        f"/contacts/{contact.pk}/edit/", {**valid_post(), "action": "save", "version": seen}
    )
    second = coordinator.post(f"/contacts/{contact.pk}/edit/", {**valid_post(), "version": seen})
    assert second.status_code == 200
    assert "saved this draft" in text(second.content)
    contact.refresh_from_db()
    assert contact.status == ContactStatus.DRAFT


# --- Matching ----------------------------------------------------------------------------------


@pytest.fixture
def known_amelia(hub):
    """Amelia already in the index from an earlier contact, under her full name."""
    journey.submitted_contact(
        hub,
        people=[
            journey.child("Amelia", "Hart", born=dt.date(2018, 5, 4), nhs_number="9434765919"),
        ],
    )
    return Person.objects.get(given_name="Amelia")


def test_find_matches_offers_likely_records_with_scores_and_reasons(coordinator, known_amelia):
    data = valid_post(action="match:children-0", **child_fields(0, given_name="Amy"))
    page = coordinator.post("/contacts/new/", data)
    shown = text(page.content)
    assert f"Link to {known_amelia.full_name}" in shown
    assert "Same NHS number" in shown
    assert "Same date of birth" in shown
    assert "943 476 5919" in shown
    assert "None of these: create a new person" in shown
    assert value_of(page.content, "children-0-matched") == "1"
    assert 'id="children-0-matches"' in page.content.decode()
    assert not Contact.objects.filter(status=ContactStatus.DRAFT).exists()


def test_candidates_show_their_open_enquiries(hub, coordinator):
    enquiry = journey.open_enquiry(hub)
    data = valid_post(action="match:children-0", **child_fields(0, nhs_number=""))
    shown = text(coordinator.post("/contacts/new/", data).content)
    assert "1 open enquiry" in shown
    assert enquiry.is_open


def test_a_child_referred_in_the_last_12_months_is_flagged_as_a_re_referral(hub, coordinator):
    from mash.enquiries import services as enquiry_services
    from mash.enquiries.models import Outcome

    enquiry = journey.rated_enquiry(hub)
    enquiry_services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=enquiry_services.children_of(enquiry)[0],
        outcome=Outcome.SECTION_17,
        primary_need="N1",
        rationale="Needs an assessment.",
        next_team="Assessment",
        pending_reason="Enough is known.",
    )
    data = valid_post(action="match:children-0", **child_fields(0, nhs_number=""))
    shown = text(coordinator.post("/contacts/new/", data).content)
    assert "RE-REFERRAL: referred in the last 12 months" in shown
    assert "open enquir" not in shown  # the enquiry closed with the decision


def test_linking_an_existing_person_reuses_them_and_records_the_alias(coordinator, known_amelia):
    data = valid_post(
        **child_fields(0, given_name="Amy", link_to=str(known_amelia.pk), matched="1")
    )
    response = coordinator.post("/contacts/new/", data)
    assert response.status_code == 302
    link = ContactPerson.objects.filter(role="child").latest("contact_id")
    assert link.person == known_amelia
    assert link.given_name == "Amy"
    assert link.match_score is not None
    assert link.match_score >= 70
    assert "Same NHS number" in link.match_reasons
    assert PersonAlias.objects.filter(person=known_amelia, given_name="Amy").exists()
    assert Person.objects.filter(given_name__in=["Amelia", "Amy"]).count() == 1
    shown = text(coordinator.get(f"/contacts/{link.contact_id}/").content)
    assert "in the index as Amelia Hart" in shown


def test_the_link_choice_is_kept_across_posts(coordinator, known_amelia):
    data = valid_post(
        action="add:adults", **child_fields(0, link_to=str(known_amelia.pk), matched="1")
    )
    page = coordinator.post("/contacts/new/", data)
    assert checked(page.content, "children-0-link_to") == [str(known_amelia.pk)]


def test_submitting_without_deciding_on_matches_asks_for_a_decision(coordinator, known_amelia):
    page = coordinator.post("/contacts/new/", valid_post())
    assert page.status_code == 200
    message = (
        "Check the possible matches for Amelia Hart: link an existing record, "
        "or choose 'None of these: create a new person'"
    )
    assert error_for(page.content, "id_children-0-link_to") == message
    assert summary_links(page.content)[message] == "id_children-0-link_to"
    assert f"Link to {known_amelia.full_name}" in text(page.content)
    # Choosing "None of these" goes through and makes a new person.
    contact = Contact.objects.get(status=ContactStatus.DRAFT)
    data = valid_post(
        **child_fields(0, link_to="new", matched="1", nhs_number=""), version=contact.version
    )
    response = coordinator.post(f"/contacts/{contact.pk}/edit/", data)
    assert response.status_code == 302
    assert Person.objects.filter(given_name="Amelia").count() == 2


def test_a_new_person_cannot_take_an_nhs_number_already_in_the_index(coordinator, known_amelia):
    data = valid_post(**child_fields(0, given_name="Someone", link_to="new", matched="1"))
    page = coordinator.post("/contacts/new/", data)
    assert error_for(page.content, "id_children-0-nhs_number") == (
        "Someone in the person index already has this NHS number: find matches and link their "
        "record, or check the number"
    )
    assert value_of(page.content, "children-0-given_name") == "Someone"


def test_linking_a_record_that_no_longer_exists_is_an_error(coordinator):
    page = coordinator.post("/contacts/new/", valid_post(**{"children-0-link_to": "999999"}))
    assert error_for(page.content, "id_children-0-link_to") == (
        "The record chosen to link no longer exists: find matches again"
    )
    page = coordinator.post("/contacts/new/", valid_post(**{"children-0-link_to": "<script>"}))
    assert "no longer exists" in error_for(page.content, "id_children-0-link_to")


def test_the_same_record_linked_twice_is_an_error(coordinator, known_amelia):
    data = valid_post(children=2, adults=0)
    data.update(child_fields(0, link_to=str(known_amelia.pk), matched="1"))
    data.update(child_fields(1, given_name="Amy", link_to=str(known_amelia.pk), matched="1"))
    page = coordinator.post("/contacts/new/", data)
    assert error_for(page.content, "id_children-1-link_to") == (
        "This record is already linked to Amelia Hart on this contact"
    )


def test_a_linked_child_needs_no_date_of_birth_if_the_record_has_one(coordinator, known_amelia):
    data = valid_post(
        **child_fields(0, date_of_birth=None, nhs_number="", link_to=str(known_amelia.pk))
    )
    assert coordinator.post("/contacts/new/", data).status_code == 302
    link = ContactPerson.objects.filter(role="child").latest("contact_id")
    assert link.date_of_birth == dt.date(2018, 5, 4)


def test_find_matches_with_too_little_typed_says_what_is_needed(coordinator):
    data = valid_post(
        action="match:adults-0", **adult_fields(0, family_name="", date_of_birth=None)
    )
    shown = text(coordinator.post("/contacts/new/", data).content)
    assert "Enter a family name, date of birth, NHS number or unique pupil number" in shown


def test_no_matches_says_a_new_person_will_be_created(coordinator):
    data = valid_post(action="match:children-0")
    shown = text(coordinator.post("/contacts/new/", data).content)
    assert "No likely matches in the person index" in shown


# --- The contact page and screening ------------------------------------------------------------


@pytest.fixture
def submitted(hub):
    return journey.submitted_contact(hub)


def test_the_contact_page_shows_the_contact_and_audits_the_view(hub, manager, submitted):
    page = manager.get(f"/contacts/{submitted.pk}/")
    shown = text(page.content)
    for expected in (
        submitted.reference,
        "Sam Teacher",
        "Designated safeguarding lead",
        "Riverside Primary",
        "2A Schools",
        "Phone",
        "Amelia Hart",
        "Dawn Hart",
        "bruising on her arm",
        "Mother has been told",
        "Record the screening decision",
    ):
        assert expected in shown, expected
    assert AuditEvent.objects.filter(
        action="contacts.contact.viewed", actor=hub.manager, object_id=str(submitted.pk)
    ).exists()


@pytest.mark.parametrize(
    ("outcome", "extra"),
    [
        (ScreeningOutcome.NO_FURTHER_ACTION, {}),
        (ScreeningOutcome.ADVICE, {}),
        (ScreeningOutcome.SIGNPOSTED, {"signposted_to": "Riverton Family Hub"}),
    ],
)
def test_screening_without_progress_stays_on_the_contact(manager, submitted, outcome, extra):
    response = manager.post(
        f"/contacts/{submitted.pk}/",
        {"outcome": outcome, "reason": "Handled by school.", "version": submitted.version, **extra},
        follow=True,
    )
    assert response.redirect_chain == [(f"/contacts/{submitted.pk}/", 302)]
    shown = text(response.content)
    assert "Screening decision recorded" in shown
    assert ScreeningOutcome(outcome).label in shown
    assert "Handled by school." in shown
    assert "Record the screening decision" not in shown
    assert not Enquiry.objects.exists()
    if extra:
        assert "Riverton Family Hub" in shown


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": "x"}, "id_outcome", "Select a screening decision"),
        ({"outcome": "maybe", "reason": "x"}, "id_outcome", "Select a screening decision"),
        (
            {"outcome": "nfa", "reason": ""},
            "id_reason",
            "Enter the reason for the screening decision",
        ),
        (
            {"outcome": "signposted", "reason": "x"},
            "id_signposted_to",
            "Enter who the family was signposted to",
        ),
        (
            {"outcome": "nfa", "reason": "x" * 20_001},
            "id_reason",
            "Reason must be 20,000 characters or fewer",
        ),
    ],
)
def test_screening_bad_input(manager, submitted, data, field, message):
    page = manager.post(f"/contacts/{submitted.pk}/", {**data, "version": submitted.version})
    assert page.status_code == 200
    assert error_for(page.content, field) == message
    assert summary_links(page.content) == {message: field}
    submitted.refresh_from_db()
    assert submitted.status == ContactStatus.AWAITING_SCREENING


def test_screening_twice_at_once_the_second_is_told(hub, manager, coordinator, submitted):
    seen = submitted.version
    manager.post(
        f"/contacts/{submitted.pk}/", {"outcome": "nfa", "reason": "First.", "version": seen}
    )
    page = coordinator.post(
        f"/contacts/{submitted.pk}/", {"outcome": "progress", "reason": "Second.", "version": seen}
    )
    assert page.status_code == 200
    shown = text(page.content)
    assert "Someone else screened this contact first" in shown
    assert "No further action" in shown
    assert "First." in shown
    assert not Enquiry.objects.exists()


def test_markup_is_shown_as_text_everywhere(coordinator, manager):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    data = valid_post(
        concern=hostile,
        family_told=hostile,
        referrer_name=hostile[:150],
        referrer_organisation=hostile,
        **child_fields(0, given_name="<b>Amelia</b>", school=hostile),
    )
    assert coordinator.post("/contacts/new/", data).status_code == 302
    contact = Contact.objects.get()
    assert contact.concern == hostile
    for client in (coordinator, manager):
        page = client.get(f"/contacts/{contact.pk}/").content.decode()
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "<b>Amelia" not in page
        assert "&lt;script&gt;alert(" in page
    listing = manager.get("/contacts/").content.decode()
    assert "<b>Amelia" not in listing
    assert "&lt;b&gt;Amelia&lt;/b&gt;" in listing


# --- The list ----------------------------------------------------------------------------------


def test_the_list_shows_drafts_the_queue_and_recent_screening(hub, coordinator, manager):
    draft = _draft(coordinator, valid_post(**child_fields(0, given_name="Drafty")))
    older = journey.submitted_contact(hub, received_at=NOW - dt.timedelta(hours=5))
    newer = journey.submitted_contact(
        hub, people=[journey.child("Zed", "Newer")], received_at=NOW - dt.timedelta(hours=1)
    )
    enquiry = journey.open_enquiry(hub, people=[journey.child("Screened", "Child")])
    page = manager.get("/contacts/")
    assert page.status_code == 200
    raw = page.content.decode()
    shown = text(raw)
    assert f'href="/contacts/{draft.pk}/edit/"' in raw
    assert "Drafty Hart" in shown
    assert hub.coordinator.full_name in shown
    # Oldest first, with received time and children.
    assert raw.index(older.reference) < raw.index(newer.reference)
    assert "11 June 2025, 05:30" in shown  # 09:30 UTC less 5 hours, in London time
    assert "Zed Newer" in shown
    assert f'href="/enquiries/{enquiry.pk}/"' in raw
    assert "Screened Child" in shown
    assert 'href="/contacts/new/"' in raw


def _bulk_rows(hub, n: int) -> None:
    """n drafts, n awaiting screening and n screened contacts (each with a child), cheaply."""
    from mash.people.models import Person as P

    people = P.objects.bulk_create(
        [P(given_name=f"Child{i}", family_name="Bulk") for i in range(3 * n)]
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                status=status,
                created_by=hub.coordinator,
                received_at=NOW - dt.timedelta(minutes=i + 1),
                screened_at=NOW if status == ContactStatus.SCREENED else None,
                screened_by=hub.manager if status == ContactStatus.SCREENED else None,
                screening_outcome="progress" if status == ContactStatus.SCREENED else "",
                draft={"children-0-given_name": [f"D{i}"]} if status == ContactStatus.DRAFT else {},
            )
            for status in (
                ContactStatus.DRAFT,
                ContactStatus.AWAITING_SCREENING,
                ContactStatus.SCREENED,
            )
            for i in range(n)
        ]
    )
    ContactPerson.objects.bulk_create(
        [
            ContactPerson(
                contact=c, person=p, role="child", given_name=p.given_name, family_name="Bulk"
            )
            for c, p in zip(contacts, people, strict=True)
            if c.status != ContactStatus.DRAFT
        ]
    )
    Enquiry.objects.bulk_create(
        [
            Enquiry(contact=c, contact_received_at=c.received_at or NOW, opened_by=hub.manager)
            for c in contacts
            if c.status == ContactStatus.SCREENED
        ]
    )


def _queries_for_list(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/contacts/").status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_10_rows_as_for_500(
    hub, manager, django_assert_max_num_queries
):
    _bulk_rows(hub, 10)
    few = _queries_for_list(manager)
    _bulk_rows(hub, 490)
    assert _queries_for_list(manager) == few
    with django_assert_max_num_queries(few):
        page = manager.get("/contacts/")
    assert page.content.decode().count("/edit/") >= 500  # every draft listed


def test_a_pupil_number_is_stored_in_capitals_without_spaces(coordinator):
    data = valid_post(**child_fields(0, upn="c204 1234 56789"))
    assert coordinator.post("/contacts/new/", data).status_code == 302
    assert ContactPerson.objects.get(role="child").upn == "C204123456789"


def test_find_matches_through_htmx_answers_with_the_page_holding_the_block(
    coordinator, known_amelia
):
    """htmx posts the form with the button's value and swaps in #children-0-matches."""
    data = valid_post(action="match:children-0")
    page = coordinator.post("/contacts/new/", data, headers={"HX-Request": "true"})
    raw = page.content.decode()
    region = raw[raw.index('id="children-0-matches"') :]
    assert f"Link to {known_amelia.full_name}" in region[: region.index('value="match:children-0"')]
    assert 'hx-select="#children-0-matches"' in raw
