"""An agency practitioner's request page: what they see, and answering it."""

from __future__ import annotations

import re

import pytest

from mash.accounts.models import Role
from mash.core.concurrency import bump
from mash.core.models import AuditEvent
from mash.enquiries import services
from mash.enquiries.models import AgencyRequest, AnswerItem, RequestStatus, Sensitivity
from mash.people.identifiers import format_nhs_number
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

NHS_NUMBER = "9434765919"
UPN = "C204123456789"
SUMMARY_FOR_AGENCIES = "Bruising to arm; mother and partner at home."
CONCERN = "Amelia came to school with bruising on her arm and said she was scared."
FAMILY_TOLD = "Mother has been told the school is contacting the hub."
POLICE_SUMMARY = "Partner known to police for violence"
POLICE_DETAIL = "Intelligence report 2024/118: threats with a knife."


@pytest.fixture
def hub():
    return journey.small_hub()


@pytest.fixture
def enquiry(hub):
    return journey.rated_enquiry(
        hub,
        people=[
            journey.child(
                nhs_number=NHS_NUMBER,
                upn=UPN,
                address_line_1="12 Mill Lane",
                town="Northam",
                postcode="NM1 2AB",
                school="Hillside Academy",
                gp="Northam Health Centre",
            ),
            journey.adult(address_line_1="12 Mill Lane", town="Northam", postcode="NM1 2AB"),
        ],
    )


def _url(agency_request: AgencyRequest) -> str:
    return f"/requests/{agency_request.pk}/"


def _item(prefix: int = 0, **values: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "summary": "Attendance 82% this term",
        "detail": "Late most Mondays.",
        "source_reference": "SIMS-4471",
        "sensitivity": Sensitivity.PROFESSIONALS,
    }
    fields.update(values)
    return {f"items-{prefix}-{k}": v for k, v in fields.items()}


def _post(agency_request, *items, held="items", mode="answer", **extra):
    data: dict[str, object] = {
        "mode": mode,
        "version": agency_request.version,
        "action": "send",
        "items-TOTAL_FORMS": max(1, len(items)),
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 20,
    }
    if mode == "answer":
        data["held"] = held
    for item in items:
        data.update(item)
    data.update(extra)
    return data


def _text(response) -> str:
    return response.content.decode()


# --- What the practitioner sees -------------------------------------------------------------


def test_a_practitioner_sees_what_they_need_to_search_and_nothing_more(hub, enquiry, signed_in):
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[
            services.ItemEntry(
                summary=POLICE_SUMMARY, detail=POLICE_DETAIL, sensitivity=Sensitivity.MASH_ONLY
            )
        ],
    )
    education = journey.request_for(enquiry, hub.education)
    response = signed_in(hub.practitioners["education"]).get(_url(education))
    assert response.status_code == 200
    html = _text(response)
    # What they need: the summary for agencies and each person's identifying details.
    for expected in (
        enquiry.reference,
        SUMMARY_FOR_AGENCIES,
        "Amelia Hart",
        "4 May 2018",
        format_nhs_number(NHS_NUMBER),
        UPN,
        "12 Mill Lane, Northam, NM1 2AB",
        "Hillside Academy",
        "Northam Health Centre",
        "Dawn Hart",
        "Parent of Amelia Hart",
        "Red",
    ):
        assert expected in html, expected
    # Nothing more: not the referrer, the concern, consent, or another agency's answer.
    for absent in (
        "Sam Teacher",
        "Designated safeguarding lead",
        "Riverside Primary",
        CONCERN,
        FAMILY_TOLD,
        "Dawn Hart (mother)",
        POLICE_SUMMARY,
        POLICE_DETAIL,
        "MASH-only information is held",
    ):
        assert absent not in html, absent


def test_the_view_is_audited(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    signed_in(hub.practitioners["education"]).get(_url(education))
    assert AuditEvent.objects.filter(
        action="enquiries.agencyrequest.viewed",
        object_id=str(education.pk),
        actor=hub.practitioners["education"],
    ).exists()


def test_the_page_shows_the_deadline_and_time_left(hub, enquiry, signed_in):
    html = _text(
        signed_in(hub.practitioners["health"]).get(_url(journey.request_for(enquiry, hub.health)))
    )
    assert re.search(r"3h \d+m left", html)
    assert "Pending" in html


# --- Answering ------------------------------------------------------------------------------


def test_answering_nothing_held(hub, enquiry, signed_in):
    health = journey.request_for(enquiry, hub.health)
    client = signed_in(hub.practitioners["health"])
    response = client.post(_url(health), _post(health, held="nothing"))
    assert response.status_code == 302
    assert response["Location"] == _url(health)
    health.refresh_from_db()
    assert health.status == RequestStatus.NOTHING_HELD
    assert health.answered_by == hub.practitioners["health"]
    assert not AnswerItem.objects.filter(request=health).exists()
    page = _text(client.get(_url(health)))
    assert "nothing held" in page.lower()
    assert "Add to your answer" in page


def test_answering_with_two_items_in_one_submission(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    client = signed_in(hub.practitioners["education"])
    data = _post(
        education,
        _item(0),
        _item(
            1,
            summary="Sibling excluded last year",
            detail="",
            source_reference="",
            sensitivity=Sensitivity.SHAREABLE,
            risk_indicators=["neglect", "non_engagement"],
        ),
    )
    data["items-0-risk_indicators"] = ["domestic_abuse"]
    response = client.post(_url(education), data)
    assert response.status_code == 302
    education.refresh_from_db()
    assert education.status == RequestStatus.ANSWERED
    items = list(AnswerItem.objects.filter(request=education).order_by("id"))
    assert [(i.summary, i.sensitivity) for i in items] == [
        ("Attendance 82% this term", Sensitivity.PROFESSIONALS),
        ("Sibling excluded last year", Sensitivity.SHAREABLE),
    ]
    assert items[0].risk_indicators == ["domestic_abuse"]
    assert items[0].source_reference == "SIMS-4471"
    assert items[0].detail == "Late most Mondays."
    assert items[1].risk_indicators == ["neglect", "non_engagement"]
    page = _text(client.get(_url(education)))
    assert "Attendance 82% this term" in page
    assert "Sibling excluded last year" in page
    assert "Domestic abuse" in page


def test_a_blank_extra_item_is_left_out(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    data = _post(education, _item(0), _item(1, summary="", detail="", source_reference=""))
    del data["items-1-sensitivity"]
    response = signed_in(hub.practitioners["education"]).post(_url(education), data)
    assert response.status_code == 302
    assert AnswerItem.objects.filter(request=education).count() == 1


def test_adding_later_keeps_the_earlier_items_unchanged(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    client = signed_in(hub.practitioners["education"])
    client.post(_url(education), _post(education, _item(0)))
    first = AnswerItem.objects.get(request=education)
    education.refresh_from_db()
    response = client.post(
        _url(education),
        _post(education, _item(0, summary="Sibling is a young carer"), mode="add"),
    )
    assert response.status_code == 302
    items = list(AnswerItem.objects.filter(request=education).order_by("id"))
    assert len(items) == 2
    assert (items[0].pk, items[0].summary, items[0].detail, items[0].created_at) == (
        first.pk,
        first.summary,
        first.detail,
        first.created_at,
    )
    assert items[1].summary == "Sibling is a young carer"
    page = _text(client.get(_url(education)))
    assert page.index("Attendance 82% this term") < page.index("Sibling is a young carer")


def test_adding_to_a_nothing_held_answer(hub, enquiry, signed_in):
    health = journey.request_for(enquiry, hub.health)
    client = signed_in(hub.practitioners["health"])
    client.post(_url(health), _post(health, held="nothing"))
    health.refresh_from_db()
    response = client.post(
        _url(health), _post(health, _item(0, summary="Missed 6-week check"), mode="add")
    )
    assert response.status_code == 302
    health.refresh_from_db()
    assert health.status == RequestStatus.ANSWERED
    assert [i.summary for i in AnswerItem.objects.filter(request=health)] == ["Missed 6-week check"]


def test_add_another_item_works_without_javascript_and_keeps_what_was_typed(
    hub, enquiry, signed_in
):
    education = journey.request_for(enquiry, hub.education)
    client = signed_in(hub.practitioners["education"])
    data = _post(education, _item(0, summary="Typed before adding"), action="add_item")
    response = client.post(_url(education), data)
    assert response.status_code == 200
    html = _text(response)
    assert 'data-testid="item-1"' in html
    assert 'value="Typed before adding"' in html
    assert 'name="items-TOTAL_FORMS" value="2"' in html
    assert "There is a problem" not in html
    assert not AnswerItem.objects.filter(request=education).exists()

    data = _post(
        education,
        _item(0, summary="First"),
        _item(1, summary="Second"),
        remove_item="0",
    )
    del data["action"]
    html = _text(client.post(_url(education), data))
    assert 'value="Second"' in html
    assert 'value="First"' not in html
    assert 'name="items-TOTAL_FORMS" value="1"' in html


# --- Two practitioners at once ---------------------------------------------------------------


def test_the_second_practitioner_is_told_sees_the_answer_and_keeps_what_they_typed(
    hub, enquiry, signed_in, make
):
    education = journey.request_for(enquiry, hub.education)
    colleague = make.practitioner(agency_=hub.education)
    seen = AgencyRequest.objects.get(pk=education.pk)  # what the second practitioner's page had
    services.answer_request(
        actor=colleague,
        request=education,
        items=[services.ItemEntry(summary="Colleague's answer", sensitivity="professionals")],
    )
    response = signed_in(hub.practitioners["education"]).post(
        _url(seen), _post(seen, _item(0, summary="My late finding"))
    )
    assert response.status_code == 409
    html = _text(response)
    assert "Someone in your agency has already answered this request." in html
    assert "Colleague&#39;s answer" in html or "Colleague's answer" in html
    assert 'value="My late finding"' in html  # kept, in the "Add to your answer" form
    assert "Add to your answer" in html
    assert [i.summary for i in AnswerItem.objects.filter(request=education)] == [
        "Colleague's answer"
    ]


def test_a_stale_version_on_a_pending_request_is_refused_and_the_typing_kept(
    hub, enquiry, signed_in
):
    education = journey.request_for(enquiry, hub.education)
    seen_version = education.version
    bump(education)  # someone changed the request in between
    data = _post(education, _item(0, summary="Kept on the page"))
    data["version"] = seen_version
    response = signed_in(hub.practitioners["education"]).post(_url(education), data)
    assert response.status_code == 409
    html = _text(response)
    assert "Someone else changed this while you were working on it." in html
    assert 'value="Kept on the page"' in html
    assert f'name="version" value="{education.version}"' in html
    education.refresh_from_db()
    assert education.status == RequestStatus.PENDING


def test_two_nothing_held_answers_one_wins(hub, enquiry, signed_in, make):
    health = journey.request_for(enquiry, hub.health)
    colleague = make.practitioner(agency_=hub.health)
    first = signed_in(colleague).post(_url(health), _post(health, held="nothing"))
    second = signed_in(hub.practitioners["health"]).post(
        _url(health), _post(health, held="nothing")
    )
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Someone in your agency has already answered this request." in _text(second)
    health.refresh_from_db()
    assert health.answered_by == colleague


def test_a_request_not_required_says_so_and_takes_no_answer(hub, enquiry, signed_in):
    police = journey.request_for(enquiry, hub.police)
    services.mark_not_required(
        actor=hub.manager, request=police, reason="Police already on a strategy call."
    )
    client = signed_in(hub.practitioners["police"])
    html = _text(client.get(_url(police)))
    assert "The hub no longer needs an answer from your agency." in html
    assert "Send answer" not in html
    response = client.post(_url(police), _post(police, held="nothing"))
    assert response.status_code == 409
    police.refresh_from_db()
    assert police.status == RequestStatus.NOT_REQUIRED


def test_a_closed_enquiry_says_so_and_takes_no_addition(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    services.answer_request(
        actor=hub.practitioners["education"],
        request=education,
        items=[services.ItemEntry(summary="Attendance", sensitivity="professionals")],
    )
    services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=services.children_of(enquiry)[0],
        outcome="nfa",
        primary_need="N9",
        rationale="Explained by an accident at a club.",
        next_team="None",
        pending_reason="The club confirmed the accident.",
    )
    client = signed_in(hub.practitioners["education"])
    html = _text(client.get(_url(education)))
    assert "This enquiry has been closed" in html
    assert "Add to your answer" not in html
    education.refresh_from_db()
    response = client.post(_url(education), _post(education, _item(0), mode="add"))
    assert response.status_code == 409
    assert AnswerItem.objects.filter(request=education).count() == 1


def test_the_service_refuses_an_addition_once_the_enquiry_is_closed(hub, enquiry):
    from mash.core.concurrency import Conflict

    education = journey.request_for(enquiry, hub.education)
    services.answer_request(
        actor=hub.practitioners["education"], request=education, nothing_held=True
    )
    services.decide(
        actor=hub.manager,
        enquiry=enquiry,
        child=services.children_of(enquiry)[0],
        outcome="nfa",
        primary_need="N9",
        rationale="No concerns found.",
        next_team="None",
        pending_reason="Enough is known.",
    )
    with pytest.raises(Conflict, match="closed"):
        services.add_to_answer(
            actor=hub.practitioners["education"],
            request=education,
            items=[services.ItemEntry(summary="Late", sensitivity="professionals")],
        )


# --- Bad input ------------------------------------------------------------------------------


BAD_INPUT = [
    pytest.param(
        {"items-0-summary": ""}, "Enter a summary of what your agency holds", id="no-summary"
    ),
    pytest.param(
        {"items-0-summary": "x" * 501}, "Summary must be 500 characters or fewer", id="long-summary"
    ),
    pytest.param(
        {"items-0-sensitivity": ""},
        "Select who this information may be shared with",
        id="no-sensitivity",
    ),
    pytest.param(
        {"items-0-sensitivity": "public"},
        "Select who this information may be shared with",
        id="bad-sensitivity",
    ),
    pytest.param(
        {"items-0-detail": "x" * 20_001},
        "Detail must be 20,000 characters or fewer",
        id="long-detail",
    ),
    pytest.param(
        {"items-0-risk_indicators": ["domestic_abuse", "witchcraft"]},
        "Select risk indicators from the list",
        id="unknown-risk",
    ),
    pytest.param(
        {"items-0-source_reference": "R" * 101},
        "Reference must be 100 characters or fewer",
        id="long-reference",
    ),
    pytest.param(
        {"held": ""},
        "Select whether your agency holds information about these people",
        id="no-choice",
    ),
    pytest.param(
        {"held": "maybe"},
        "Select whether your agency holds information about these people",
        id="bad-choice",
    ),
    pytest.param(
        {"held": "nothing"}, "You said nothing is held but recorded an item", id="nothing-and-items"
    ),
    pytest.param(
        {"items-TOTAL_FORMS": "21"}, "Record 20 items or fewer at a time", id="too-many-items"
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUT)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_saved(
    change, message, hub, enquiry, signed_in
):
    education = journey.request_for(enquiry, hub.education)
    data = _post(education, _item(0, summary="Kept <b>as typed</b>"))
    data.update(change)
    response = signed_in(hub.practitioners["education"]).post(_url(education), data)
    assert response.status_code == 200
    html = _text(response)
    assert message in html
    assert "<title>Error:" in html
    assert "govuk-error-summary" in html
    if "items-0-summary" not in change:
        assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in html
    education.refresh_from_db()
    assert education.status == RequestStatus.PENDING
    assert not AnswerItem.objects.filter(request=education).exists()


def test_markup_is_saved_as_typed_and_shown_as_text(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    client = signed_in(hub.practitioners["education"])
    hostile = '<script>alert("x")</script>'
    client.post(_url(education), _post(education, _item(0, summary=hostile, detail=hostile)))
    assert AnswerItem.objects.get(request=education).summary == hostile
    html = _text(client.get(_url(education)))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_an_empty_item_is_asked_for(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    data = _post(education, _item(0, summary="", detail="", source_reference=""))
    del data["items-0-sensitivity"]
    response = signed_in(hub.practitioners["education"]).post(_url(education), data)
    assert response.status_code == 200
    assert "Enter a summary of what your agency holds" in _text(response)
    assert not AnswerItem.objects.filter(request=education).exists()


def test_a_form_without_its_mode_is_shown_again_not_a_server_error(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    data = _post(education, _item(0))
    del data["mode"]
    response = signed_in(hub.practitioners["education"]).post(_url(education), data)
    assert response.status_code == 200
    assert not AnswerItem.objects.filter(request=education).exists()


# --- Who may open it ------------------------------------------------------------------------


def _user_for(who: str, hub, make):
    if who == "own_practitioner":
        return hub.practitioners["education"]
    if who == "other_practitioner":
        return hub.practitioners["police"]
    if who == Role.HUB_MANAGER:
        return hub.manager
    if who == Role.REFERRAL_COORDINATOR:
        return hub.coordinator
    return make.ROLE_FACTORIES[who]()


# who: (GET status, POST status)
ACCESS = {
    Role.HUB_MANAGER: (200, 403),
    Role.REFERRAL_COORDINATOR: (200, 403),
    "own_practitioner": (200, 302),
    "other_practitioner": (403, 403),
    Role.ADVICE_LINE_WORKER: (403, 403),
    Role.ANALYST: (403, 403),
    Role.ADMINISTRATOR: (403, 403),
}


@pytest.mark.parametrize("who", list(ACCESS))
def test_who_may_open_and_answer_a_request(who, hub, enquiry, make, signed_in):
    education = journey.request_for(enquiry, hub.education)
    client = signed_in(_user_for(who, hub, make))
    get_status, post_status = ACCESS[who]
    response = client.get(_url(education))
    assert response.status_code == get_status
    if get_status == 200:
        html = _text(response)
        assert ("Send answer" in html) == (who == "own_practitioner")
    assert client.post(_url(education), _post(education, held="nothing")).status_code == (
        post_status
    )
    education.refresh_from_db()
    assert (education.status == RequestStatus.NOTHING_HELD) == (who == "own_practitioner")


def test_a_missing_request_is_not_found_for_a_practitioner_and_refused_to_others(
    hub, make, signed_in
):
    assert signed_in(hub.practitioners["police"]).get("/requests/999999/").status_code == 404
    assert signed_in(make.analyst()).get("/requests/999999/").status_code == 403


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(hub, enquiry, client):
    response = client.get(_url(journey.request_for(enquiry, hub.education)))
    assert response.status_code == 302
    assert "/sign-in" in response["Location"] or "login" in response["Location"]


def test_a_coordinator_reading_a_request_is_told_mash_only_information_is_held(
    hub, enquiry, signed_in
):
    police = journey.request_for(enquiry, hub.police)
    services.answer_request(
        actor=hub.practitioners["police"],
        request=police,
        items=[services.ItemEntry(summary=POLICE_SUMMARY, sensitivity=Sensitivity.MASH_ONLY)],
    )
    html = _text(signed_in(hub.coordinator).get(_url(police)))
    assert POLICE_SUMMARY not in html
    assert "MASH-only information is held by Police." in html
    manager_html = _text(signed_in(hub.manager).get(_url(police)))
    assert POLICE_SUMMARY in manager_html


def test_with_several_items_the_error_summary_says_which_item(hub, enquiry, signed_in):
    education = journey.request_for(enquiry, hub.education)
    data = _post(education, _item(0), _item(1, summary="Second", sensitivity=""))
    html = _text(signed_in(hub.practitioners["education"]).post(_url(education), data))
    assert "Item 2: Select who this information may be shared with" in html
    assert 'href="#id_items-1-sensitivity"' in html
    assert not AnswerItem.objects.filter(request=education).exists()
