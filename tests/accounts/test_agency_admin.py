"""Administrators manage the hub's member agencies: /settings/agencies/."""

import datetime as dt
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from mash.accounts import services
from mash.accounts.models import Agency, AgencyKind, Role
from mash.core.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL

pytestmark = pytest.mark.django_db

LIST_URL = reverse("accounts:agency_list")
CREATE_URL = reverse("accounts:agency_create")
XSS = "<script>alert(1)</script>"
NON_ADMIN_ROLES = [r for r in Role.values if r != Role.ADMINISTRATOR]
TODAY = dt.datetime(2025, 11, 20, 12, 0, tzinfo=dt.UTC)


def edit_url(agency):
    return reverse("accounts:agency_edit", args=[agency.pk])


@pytest.fixture
def admin(make):
    return make.administrator()


@pytest.fixture
def as_admin(admin, signed_in):
    return signed_in(admin)


def form_data(**overrides):
    data = {
        "name": "Northshire Constabulary",
        "kind": AgencyKind.POLICE,
        "protocol_signed_on-day": "27",
        "protocol_signed_on-month": "3",
        "protocol_signed_on-year": "2024",
        "co_located": "True",
        "shared_inbox": "mash@northshire.police.example",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def _problem(response):
    """The re-shown form, with HTML entities decoded so messages read as typed."""
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "<title>Error: " in html
    assert XSS not in html
    return unescape(html)


def test_agency_list_shows_agencies_and_their_active_users(make, admin, as_admin):
    police = make.agency(
        name="Northshire Police", kind=AgencyKind.POLICE, protocol_signed_on=dt.date(2024, 3, 7)
    )
    for _ in range(3):
        make.hub_manager(agency_=police)
    gone = make.hub_manager(agency_=police)
    services.set_user_active(actor=admin, user=gone, active=False)
    response = as_admin.get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index(f'href="{edit_url(police)}"') :]
    row = row[: row.index("</tr>")]
    assert "Northshire Police" in row
    assert ">Police<" in row
    assert "7 March 2024" in row
    assert ">3<" in row  # active users only


def test_administrator_adds_an_agency_and_it_is_audited(admin, as_admin):
    response = as_admin.post(CREATE_URL, form_data())
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    agency = Agency.objects.get(name="Northshire Constabulary")
    assert agency.kind == AgencyKind.POLICE
    assert agency.protocol_signed_on == dt.date(2024, 3, 27)
    assert agency.co_located is True
    assert agency.shared_inbox == "mash@northshire.police.example"
    assert agency.is_active is True
    event = AuditEvent.objects.get(action="accounts.agency_created", actor=admin)
    assert event.object_id == str(agency.pk)
    assert event.detail == {"name": "Northshire Constabulary", "kind": "police"}
    assert "Northshire Constabulary added." in as_admin.get(LIST_URL).content.decode()


def test_an_agency_may_be_added_without_a_protocol_date_or_inbox(as_admin):
    data = form_data(
        **{
            "protocol_signed_on-day": "",
            "protocol_signed_on-month": "",
            "protocol_signed_on-year": "",
            "shared_inbox": "",
            "co_located": "False",
        }
    )
    del data["is_active"]
    assert as_admin.post(CREATE_URL, data).status_code == 302
    agency = Agency.objects.get(name="Northshire Constabulary")
    assert agency.protocol_signed_on is None
    assert agency.co_located is False
    assert agency.is_active is False


def test_administrator_edits_an_agency_and_the_change_is_audited(make, admin, as_admin):
    agency = make.agency(name="Health", kind=AgencyKind.HEALTH_GP)
    page = as_admin.get(edit_url(agency)).content.decode()
    assert 'value="Health"' in page
    response = as_admin.post(
        edit_url(agency),
        form_data(name="Health: GP practices", kind=AgencyKind.HEALTH_GP, co_located="False"),
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.name == "Health: GP practices"
    assert agency.co_located is False
    event = AuditEvent.objects.get(action="accounts.agency_updated", actor=admin)
    assert event.detail["changed"]["name"] == ["Health", "Health: GP practices"]
    assert event.detail["changed"]["protocol_signed_on"] == [None, "2024-03-27"]
    assert event.detail["changed"]["co_located"] == [True, False]


def test_saving_an_agency_unchanged_writes_no_audit_event(make, admin, as_admin):
    agency = make.agency(
        name="Northshire Constabulary",
        kind=AgencyKind.POLICE,
        protocol_signed_on=dt.date(2024, 3, 27),
        shared_inbox="mash@northshire.police.example",
    )
    assert as_admin.post(edit_url(agency), form_data()).status_code == 302
    assert not AuditEvent.objects.filter(action="accounts.agency_updated").exists()


def test_an_agency_keeps_its_own_name_when_edited(make, as_admin):
    agency = make.agency(name="Northshire Constabulary", kind=AgencyKind.POLICE)
    assert as_admin.post(edit_url(agency), form_data(shared_inbox="")).status_code == 302


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the agency's name"),
        ({"name": "   "}, "name", "Enter the agency's name"),
        ({"name": "x" * 10_000}, "name", "Agency name must be 120 characters or fewer"),
        ({"kind": ""}, "kind", "Select the kind of agency"),
        ({"kind": "wizards"}, "kind", "Select a valid choice"),
        ({"co_located": ""}, "co_located", "Select where the agency works"),
        (
            {"shared_inbox": "not-an-email"},
            "shared_inbox",
            "Enter the shared inbox in the correct format",
        ),
        (
            {"protocol_signed_on-day": "31", "protocol_signed_on-month": "2"},
            "protocol_signed_on",
            "must be a real date",
        ),
        (
            {
                "protocol_signed_on-day": "29",
                "protocol_signed_on-month": "2",
                "protocol_signed_on-year": "2023",
            },
            "protocol_signed_on",
            "must be a real date",
        ),
        ({"protocol_signed_on-month": "13"}, "protocol_signed_on", "must be a real date"),
        ({"protocol_signed_on-day": "0"}, "protocol_signed_on", "must be a real date"),
        ({"protocol_signed_on-year": "24"}, "protocol_signed_on", "year must include 4 numbers"),
        ({"protocol_signed_on-day": "x"}, "protocol_signed_on", "written in numbers"),
        ({"protocol_signed_on-day": "-1"}, "protocol_signed_on", "written in numbers"),
        ({"protocol_signed_on-month": ""}, "protocol_signed_on", "must include a month"),
        (
            {"protocol_signed_on-day": "", "protocol_signed_on-year": ""},
            "protocol_signed_on",
            "must include a day and a year",
        ),
        ({"protocol_signed_on-day": "9" * 30}, "protocol_signed_on", "must be a real date"),
        ({"protocol_signed_on-month": "9" * 30}, "protocol_signed_on", "must be a real date"),
        ({"protocol_signed_on-year": "0000"}, "protocol_signed_on", "must be a real date"),
    ],
)
def test_bad_agency_details_are_explained_and_what_was_typed_is_kept(
    as_admin, overrides, field, message
):
    data = form_data(**overrides)
    html = _problem(as_admin.post(CREATE_URL, data))
    assert message in html
    assert f'href="#id_{field}' in html
    assert not Agency.objects.filter(shared_inbox="mash@northshire.police.example").exists()
    assert not AuditEvent.objects.filter(action="accounts.agency_created", actor__isnull=False)
    if field != "name":
        assert 'value="Northshire Constabulary"' in html
    if field != "shared_inbox":
        assert 'value="mash@northshire.police.example"' in html
    for part in ("day", "month", "year"):
        typed = data[f"protocol_signed_on-{part}"][:10]  # an absurdly long box is cut short
        assert f'name="protocol_signed_on-{part}" type="text" value="{typed}"' in html


def test_a_duplicate_agency_name_is_refused(make, as_admin):
    make.agency(name="Northshire Constabulary")
    html = _problem(as_admin.post(CREATE_URL, form_data()))
    assert "An agency with this name already exists" in html
    assert Agency.objects.filter(name="Northshire Constabulary").count() == 1


@pytest.mark.parametrize("typed", ["northshire constabulary", "  NORTHSHIRE Constabulary  "])
def test_a_duplicate_agency_name_in_another_case_or_spacing_is_refused(make, as_admin, typed):
    make.agency(name="Northshire Constabulary")
    html = _problem(as_admin.post(CREATE_URL, form_data(name=typed)))
    assert "An agency with this name already exists" in html
    assert Agency.objects.count() == 2  # the administrator's own agency and the first


def test_renaming_an_agency_to_another_agencys_name_is_refused(make, as_admin):
    make.agency(name="Police")
    other = make.agency(name="Housing")
    html = _problem(as_admin.post(edit_url(other), form_data(name="POLICE")))
    assert "An agency with this name already exists" in html
    other.refresh_from_db()
    assert other.name == "Housing"


def test_a_protocol_date_in_the_future_is_refused(as_admin):
    with time_machine.travel(TODAY, tick=False):
        tomorrow = form_data(
            **{
                "protocol_signed_on-day": "21",
                "protocol_signed_on-month": "11",
                "protocol_signed_on-year": "2025",
            }
        )
        html = _problem(as_admin.post(CREATE_URL, tomorrow))
        assert "must be today or in the past" in html
        today = {**tomorrow, "protocol_signed_on-day": "20"}
        assert as_admin.post(CREATE_URL, today).status_code == 302
    assert Agency.objects.get(name="Northshire Constabulary").protocol_signed_on == dt.date(
        2025, 11, 20
    )


def test_markup_in_an_agency_name_is_shown_escaped(make, as_admin):
    response = as_admin.post(CREATE_URL, form_data(name=XSS), follow=True)
    assert response.status_code == 200
    agency = Agency.objects.get(name=XSS)
    user = make.hub_manager(agency_=agency)
    pages = [
        response,  # the list with its "added" banner
        as_admin.get(edit_url(agency)),
        as_admin.get(reverse("accounts:user_list")),
        as_admin.get(reverse("accounts:user_edit", args=[user.pk])),
    ]
    for page in pages:
        html = page.content.decode()
        assert XSS not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("pk", [987654, 10**25])
def test_an_unknown_agency_is_404(as_admin, pk):
    assert as_admin.get(reverse("accounts:agency_edit", args=[pk])).status_code == 404
    assert as_admin.post(reverse("accounts:agency_edit", args=[pk]), form_data()).status_code == 404


# Who may reach these pages.


def _pages(make):
    agency = make.agency(name="Existing agency")
    return agency, [
        ("get", LIST_URL),
        ("get", CREATE_URL),
        ("post", CREATE_URL),
        ("get", edit_url(agency)),
        ("post", edit_url(agency)),
    ]


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_every_other_role_is_refused_every_agency_page(make, signed_in, role):
    agency, pages = _pages(make)
    client = signed_in(make.ROLE_FACTORIES[role]())
    before = AuditEvent.objects.count()
    for method, path in pages:
        response = getattr(client, method)(path, form_data(name="Intruders"))
        assert response.status_code == 403, (method, path)
        assert "You do not have access to this page" in response.content.decode()
    assert not Agency.objects.filter(name="Intruders").exists()
    agency.refresh_from_db()
    assert agency.name == "Existing agency"
    assert AuditEvent.objects.count() == before


def test_anonymous_visitors_are_sent_to_sign_in(make, client):
    _agency, pages = _pages(make)
    for method, path in pages:
        response = getattr(client, method)(path, form_data(name="Intruders"))
        assert response.status_code == 302, (method, path)
        assert response["Location"].startswith(f"{SIGN_IN_URL}?next=")
    assert not Agency.objects.filter(name="Intruders").exists()
