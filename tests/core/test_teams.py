"""Teams: /settings/teams/ for administrators, and allocating an enquiry to a team when rating."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from mash.accounts.models import Role
from mash.core import services
from mash.core.models import AuditEvent, Team
from mash.enquiries import services as enquiry_services
from mash.enquiries.models import Enquiry, Rag
from tests.enquiries import journey

pytestmark = pytest.mark.django_db

LIST = "/settings/teams/"
NEW = "/settings/teams/new/"


def _text(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def _error(response, message: str) -> None:
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert message in unescape(html)
    assert "<title>Error:" in html


@pytest.fixture
def admin_client(make, signed_in) -> Client:
    return signed_in(make.administrator())


# --- Pages ------------------------------------------------------------------------------------


def test_an_administrator_adds_a_team_and_it_is_audited(make, signed_in):
    administrator = make.administrator()
    client = signed_in(administrator)
    assert "No teams yet." in _text(client.get(LIST))
    response = client.post(NEW, {"name": "  Assessment   team 1 "})
    assert response.status_code == 302
    assert response["Location"] == LIST
    team = Team.objects.get()
    assert team.name == "Assessment team 1"
    assert team.is_active
    page = client.get(LIST)
    assert "Assessment team 1 added." in _text(page)
    assert "Assessment team 1 Active" in _text(page)
    event = AuditEvent.objects.get(action="core.team_created")
    assert event.actor == administrator
    assert event.object_id == str(team.pk)
    assert event.detail == {"name": "Assessment team 1"}


def test_an_administrator_renames_a_team(admin_client):
    team = services.create_team(actor=None, name="North")
    edit = reverse("core:team_edit", args=[team.pk])
    assert 'value="North"' in admin_client.get(edit).content.decode()
    response = admin_client.post(edit, {"name": "North and East"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "North and East"
    event = AuditEvent.objects.get(action="core.team_updated")
    assert event.detail == {"changed": {"name": ["North", "North and East"]}}


def test_saving_a_team_unchanged_writes_no_audit_event(admin_client):
    team = services.create_team(actor=None, name="North")
    admin_client.post(reverse("core:team_edit", args=[team.pk]), {"name": "North"})
    assert not AuditEvent.objects.filter(action="core.team_updated").exists()


def test_a_team_may_change_only_the_capitals_of_its_own_name(admin_client):
    team = services.create_team(actor=None, name="north")
    response = admin_client.post(reverse("core:team_edit", args=[team.pk]), {"name": "North"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "North"


def test_an_administrator_deactivates_and_reactivates_a_team(admin_client):
    team = services.create_team(actor=None, name="North")
    active = reverse("core:team_set_active", args=[team.pk])
    response = admin_client.post(active, {"active": "false"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert not team.is_active
    page = _text(admin_client.get(LIST))
    assert "North deactivated." in page
    assert "North Inactive Reactivate" in page
    admin_client.post(active, {"active": "true"})
    team.refresh_from_db()
    assert team.is_active
    changes = [
        e.detail["changed"]
        for e in AuditEvent.objects.filter(action="core.team_updated").order_by("id")
    ]
    assert changes == [{"is_active": [True, False]}, {"is_active": [False, True]}]


def test_active_teams_are_listed_first(admin_client):
    services.create_team(actor=None, name="Alpha")
    services.create_team(actor=None, name="Beta")
    services.update_team(
        actor=None, team=services.create_team(actor=None, name="Aardvark"), is_active=False
    )
    html = admin_client.get(LIST).content.decode()
    names = re.findall(r'href="/settings/teams/\d+/">([^<]+)</a>', html)
    assert names == ["Alpha", "Beta", "Aardvark"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter the team's name"),
        ("   ", "Enter the team's name"),
        ("x" * 81, "Team name must be 80 characters or fewer"),
        ("north", "A team with this name already exists"),
        (" NORTH ", "A team with this name already exists"),
    ],
)
def test_a_bad_team_name_is_refused_with_a_clear_message(admin_client, name, message):
    services.create_team(actor=None, name="North")
    response = admin_client.post(NEW, {"name": name})
    _error(response, message)
    assert Team.objects.count() == 1


def test_renaming_to_another_teams_name_is_refused(admin_client):
    services.create_team(actor=None, name="North")
    south = services.create_team(actor=None, name="South")
    response = admin_client.post(reverse("core:team_edit", args=[south.pk]), {"name": "NORTH"})
    _error(response, "A team with this name already exists")
    # What was typed is kept.
    assert 'value="NORTH"' in response.content.decode()
    south.refresh_from_db()
    assert south.name == "South"


def test_markup_in_a_team_name_is_shown_as_text(admin_client):
    admin_client.post(NEW, {"name": "<script>alert(1)</script>"})
    html = admin_client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_unknown_team_is_not_found(admin_client):
    assert admin_client.get("/settings/teams/999999/").status_code == 404
    assert (
        admin_client.post("/settings/teams/999999/active/", {"active": "false"}).status_code == 404
    )


# --- Who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_teams_are_refused_to_everyone_but_administrators(role, make, signed_in):
    team = services.create_team(actor=None, name="North")
    client = signed_in(make.ROLE_FACTORIES[role]())
    for url in (LIST, NEW, reverse("core:team_edit", args=[team.pk])):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Taken over"}).status_code == 403, url
    assert (
        client.post(reverse("core:team_set_active", args=[team.pk]), {"active": "false"})
    ).status_code == 403
    team.refresh_from_db()
    assert (team.name, team.is_active) == ("North", True)
    assert Team.objects.count() == 1


def test_teams_open_for_an_administrator(admin_client):
    team = services.create_team(actor=None, name="North")
    for url in (LIST, NEW, reverse("core:team_edit", args=[team.pk])):
        assert admin_client.get(url).status_code == 200, url


def test_a_visitor_is_sent_to_sign_in(client):
    team = services.create_team(actor=None, name="North")
    for url in (LIST, NEW, reverse("core:team_edit", args=[team.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign_in"))
    client.post(reverse("core:team_set_active", args=[team.pk]), {"active": "false"})
    team.refresh_from_db()
    assert team.is_active


def test_the_active_switch_needs_a_post(admin_client):
    team = services.create_team(actor=None, name="North")
    assert admin_client.get(reverse("core:team_set_active", args=[team.pk])).status_code == 405


def test_the_hub_settings_page_links_to_teams(admin_client):
    assert 'href="/settings/teams/"' in admin_client.get("/settings/hub/").content.decode()


def test_the_services_refuse_anyone_but_an_administrator(make):
    team = services.create_team(actor=None, name="North")
    for role in (Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR, Role.ANALYST):
        user = make.ROLE_FACTORIES[role]()
        with pytest.raises(PermissionDenied):
            services.create_team(actor=user, name="South")
        with pytest.raises(PermissionDenied):
            services.update_team(actor=user, team=team, is_active=False)
    assert services.create_team(actor=make.administrator(), name="South").name == "South"


def test_the_service_refuses_a_duplicate_whatever_its_capitals(make):
    services.create_team(actor=None, name="North")
    with pytest.raises(ValidationError) as excinfo:
        services.create_team(actor=None, name="nORTH")
    assert excinfo.value.message_dict == {"name": ["A team with this name already exists"]}


def test_the_database_refuses_a_duplicate_that_slips_past_the_check(make, monkeypatch):
    # Two administrators adding "North" and "NORTH" at the same moment both pass the
    # service's check; the database's own rule stops the second, with the same message.
    services.create_team(actor=None, name="North")
    south = services.create_team(actor=None, name="South")
    monkeypatch.setattr(services, "_team_name", lambda name, exclude=None: name)
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="NORTH")
    for attempt in (
        lambda: services.create_team(actor=None, name="NORTH"),
        lambda: services.update_team(actor=None, team=south, name="north"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            attempt()
        assert excinfo.value.message_dict == {"name": ["A team with this name already exists"]}
    assert sorted(Team.objects.values_list("name", flat=True)) == ["North", "South"]


# --- Allocation on rating --------------------------------------------------------------------


def _rating(enquiry: Enquiry, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "version": enquiry.version,
        "rag": Rag.RED,
        "rationale": "Injury to a young child.",
        "summary_for_agencies": "Bruising to arm; mother and partner at home.",
    }
    data.update(overrides)
    return data


def test_the_manager_allocates_the_enquiry_to_a_team_when_rating(signed_in):
    hub = journey.small_hub()
    north = services.create_team(actor=None, name="North")
    services.create_team(actor=None, name="South")
    retired = services.create_team(actor=None, name="Retired team")
    services.update_team(actor=None, team=retired, is_active=False)
    enquiry = journey.consented_enquiry(hub)
    client = signed_in(hub.manager)
    rate = reverse("enquiries:rate", args=[enquiry.pk])
    page = client.get(rate).content.decode()
    assert "Team (optional)" in page
    assert ">North</option>" in page
    assert ">South</option>" in page
    assert "Retired team" not in page

    response = client.post(rate, _rating(enquiry, team=str(north.pk)))
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.team == north
    event = AuditEvent.objects.get(action="enquiries.enquiry_rated")
    assert event.detail["team"] == north.pk
    detail = client.get(reverse("enquiries:detail", args=[enquiry.pk]))
    assert "Team: North" in _text(detail)


def test_without_a_team_the_enquiry_says_it_is_not_allocated(signed_in):
    hub = journey.small_hub()
    services.create_team(actor=None, name="North")
    enquiry = journey.consented_enquiry(hub)
    client = signed_in(hub.manager)
    response = client.post(reverse("enquiries:rate", args=[enquiry.pk]), _rating(enquiry))
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.team is None
    assert "Team: not allocated yet" in _text(
        client.get(reverse("enquiries:detail", args=[enquiry.pk]))
    )


def test_re_rating_offers_the_current_team_and_can_move_the_enquiry(signed_in):
    hub = journey.small_hub()
    north = services.create_team(actor=None, name="North")
    south = services.create_team(actor=None, name="South")
    enquiry = journey.consented_enquiry(hub)
    enquiry_services.rate_enquiry(
        actor=hub.manager,
        enquiry=enquiry,
        rag=Rag.AMBER,
        rationale="Bruising.",
        summary_for_agencies="Bruising to arm.",
        team=north,
    )
    # North is retired later: the enquiry keeps it, and the re-rating page still shows it.
    services.update_team(actor=None, team=north, is_active=False)
    enquiry.refresh_from_db()
    client = signed_in(hub.manager)
    rate = reverse("enquiries:rate", args=[enquiry.pk])
    page = client.get(rate).content.decode()
    assert re.search(rf'<option value="{north.pk}" selected>North</option>', page)
    response = client.post(
        rate,
        {"version": enquiry.version, "rag": Rag.RED, "rationale": "New injury.", "team": south.pk},
    )
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert (enquiry.rag, enquiry.team) == (Rag.RED, south)
    event = AuditEvent.objects.get(action="enquiries.enquiry_re_rated")
    assert (event.detail["previous_team"], event.detail["team"]) == (north.pk, south.pk)


@pytest.mark.parametrize("value", ["999999", "abc", "<script>"])
def test_an_unknown_team_on_the_rating_page_is_refused(signed_in, value):
    hub = journey.small_hub()
    enquiry = journey.consented_enquiry(hub)
    response = signed_in(hub.manager).post(
        reverse("enquiries:rate", args=[enquiry.pk]), _rating(enquiry, team=value)
    )
    _error(response, "Select a team from the list")
    enquiry.refresh_from_db()
    assert enquiry.rag == ""
    # What was typed is kept.
    assert "Injury to a young child." in response.content.decode()


def test_an_inactive_team_posted_to_the_rating_page_is_refused(signed_in):
    hub = journey.small_hub()
    retired = services.create_team(actor=None, name="Retired team")
    services.update_team(actor=None, team=retired, is_active=False)
    enquiry = journey.consented_enquiry(hub)
    response = signed_in(hub.manager).post(
        reverse("enquiries:rate", args=[enquiry.pk]), _rating(enquiry, team=retired.pk)
    )
    _error(response, "Select a team from the list")


def test_the_rating_service_refuses_an_inactive_team_the_enquiry_does_not_have():
    hub = journey.small_hub()
    retired = services.create_team(actor=None, name="Retired team")
    services.update_team(actor=None, team=retired, is_active=False)
    enquiry = journey.consented_enquiry(hub)
    with pytest.raises(ValidationError) as excinfo:
        enquiry_services.rate_enquiry(
            actor=hub.manager,
            enquiry=enquiry,
            rag=Rag.RED,
            rationale="Injury.",
            summary_for_agencies="Bruising.",
            team=retired,
        )
    assert excinfo.value.message_dict == {"team": ["Retired team is no longer an active team"]}
