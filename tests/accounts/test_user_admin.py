"""Administrators manage the people who sign in: /settings/users/."""

import re
from html import unescape

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mash.accounts import services
from mash.accounts.models import Role, User
from mash.core.models import AuditEvent
from tests.accounts.conftest import SIGN_IN_URL, is_signed_in, post_sign_in

pytestmark = pytest.mark.django_db

LIST_URL = reverse("accounts:user_list")
CREATE_URL = reverse("accounts:user_create")
XSS = "<script>alert(1)</script>"
NON_ADMIN_ROLES = [r for r in Role.values if r != Role.ADMINISTRATOR]


def edit_url(user):
    return reverse("accounts:user_edit", args=[user.pk])


def active_url(user):
    return reverse("accounts:user_set_active", args=[user.pk])


@pytest.fixture
def admin(make):
    return make.administrator()


@pytest.fixture
def as_admin(admin, signed_in):
    return signed_in(admin)


def form_data(agency_, **overrides):
    data = {
        "full_name": "Priya Shah",
        "email": "priya.shah@hub.example",
        "job_title": "Senior practitioner",
        "phone": "01632 960 001",
        "agency": str(agency_.pk),
        "roles": [Role.REFERRAL_COORDINATOR, Role.HUB_MANAGER],
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


# The list.


def test_user_list_shows_users_with_agency_roles_and_status(make, as_admin):
    agency = make.agency(name="Northshire Police")
    user = make.user(Role.HUB_MANAGER, Role.ANALYST, agency_=agency, full_name="Ada Lovelace")
    response = as_admin.get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace" in html
    assert user.email in html
    assert "Northshire Police" in html
    assert "Hub manager, Analyst" in html
    assert f'href="{edit_url(user)}"' in html


def test_user_list_filters_by_name_role_agency_and_status(make, admin, as_admin):
    police = make.agency(name="Police")
    alice = make.user(Role.HUB_MANAGER, agency_=police, full_name="Alice Police")
    bob = make.user(Role.ANALYST, full_name="Bob Analyst")
    carol = make.user(Role.ANALYST, full_name="Carol Gone")
    services.set_user_active(actor=admin, user=carol, active=False)

    def names(query):
        html = as_admin.get(LIST_URL, query).content.decode()
        return {u.full_name for u in (alice, bob, carol) if u.full_name in html}

    assert names({}) == {"Alice Police", "Bob Analyst"}
    assert names({"q": "alice"}) == {"Alice Police"}
    assert names({"q": bob.email.upper()}) == {"Bob Analyst"}
    assert names({"role": Role.ANALYST}) == {"Bob Analyst"}
    assert names({"agency": police.pk}) == {"Alice Police"}
    assert names({"status": "inactive"}) == {"Carol Gone"}
    assert names({"status": "all", "role": Role.ANALYST}) == {"Bob Analyst", "Carol Gone"}


@pytest.mark.parametrize(
    "query",
    [
        {"role": "wizard"},
        {"agency": "not-a-number"},
        {"agency": "99999999999999999999999"},
        {"agency": "²"},
        {"agency": "-1"},
        {"status": "<b>"},
        {"page": "-1"},
        {"page": "abc"},
        {"q": "x" * 10_000},
        {"q": XSS},
        {"q": "a\x00b"},  # PostgreSQL refuses NUL in a query
    ],
)
def test_user_list_survives_odd_filters(as_admin, query):
    response = as_admin.get(LIST_URL, query)
    assert response.status_code == 200
    assert XSS not in response.content.decode()


def _count_list_queries(client):
    client.get(LIST_URL)  # warm up anything cached per process
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL)
    assert response.status_code == 200
    return len(queries), response


def test_user_list_costs_the_same_queries_for_10_users_as_for_200(
    make, signed_in, django_assert_max_num_queries
):
    admin = make.administrator()
    agencies = [make.agency() for _ in range(5)]
    for i in range(9):
        make.user(Role.HUB_MANAGER, Role.ANALYST, agency_=agencies[i % 5])
    client = signed_in(admin)
    ten, response = _count_list_queries(client)
    assert "10 users" in response.content.decode()
    assert ten <= 15

    for i in range(190):
        make.user(Role.REFERRAL_COORDINATOR, Role.ANALYST, agency_=agencies[i % 5])
    with django_assert_max_num_queries(ten):
        response = client.get(LIST_URL)
    html = response.content.decode()
    assert "200 users" in html
    assert len(re.findall(r'href="/settings/users/\d+/"', html)) == 50  # one page of 50
    two_hundred, _ = _count_list_queries(client)
    assert two_hundred == ten
    with django_assert_max_num_queries(ten):
        client.get(LIST_URL, {"page": "4", "status": "all"})


# Adding a user.


def test_add_user_form_lists_roles_as_checkboxes_and_only_active_agencies(make, admin, as_admin):
    make.agency(name="Live agency")
    gone = make.agency(name="Gone agency")
    services.update_agency(actor=admin, agency=gone, is_active=False)
    html = as_admin.get(CREATE_URL).content.decode()
    for role in Role.values:
        assert f'name="roles" type="checkbox" value="{role}"' in html
    assert "Live agency" in html
    assert "Gone agency" not in html


def test_administrator_adds_a_user_who_is_invited_by_email(
    make, admin, as_admin, django_capture_on_commit_callbacks
):
    agency = make.agency(name="Health visiting")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post(CREATE_URL, form_data(agency, email=" Priya.Shah@Hub.Example "))
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    user = User.objects.get(email="priya.shah@hub.example")
    assert user.full_name == "Priya Shah"
    assert user.agency == agency
    assert user.roles == {Role.REFERRAL_COORDINATOR, Role.HUB_MANAGER}
    assert user.job_title == "Senior practitioner"
    assert not user.has_usable_password()
    event = AuditEvent.objects.get(action="accounts.user_created", actor=admin)
    assert event.object_id == str(user.pk)
    assert event.detail["roles"] == sorted([Role.HUB_MANAGER, Role.REFERRAL_COORDINATOR])
    assert "Priya Shah added" in as_admin.get(LIST_URL).content.decode()

    # The invitation's link sets a password that signs in.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["priya.shah@hub.example"]
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", str(message.body))
    assert link
    path = link.group(1)
    invited = Client()
    form_url = invited.get(path)["Location"]
    password = "a-long-and-unusual-passphrase"
    done = invited.post(form_url, {"new_password1": password, "new_password2": password})
    assert done.status_code == 302
    assert post_sign_in(invited, "priya.shah@hub.example", password).status_code == 302
    assert is_signed_in(invited)
    # ...once only.
    assert Client().get(path).status_code == 410


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "Enter the person's full name"),
        ({"full_name": "   "}, "full_name", "Enter the person's full name"),
        ({"full_name": "x" * 10_000}, "full_name", "Full name must be 150 characters or fewer"),
        ({"email": ""}, "email", "Enter the person's work email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format"),
        (
            {"email": "a" * 9_988 + "@hub.example"},
            "email",
            "Email address must be 254 characters or fewer",
        ),
        ({"roles": []}, "roles", "Select at least one role"),
        ({"roles": ["wizard"]}, "roles", "Select roles from the list"),
        ({"agency": ""}, "agency", "Select the person's agency"),
        ({"agency": "99999"}, "agency", "Select an agency from the list"),
        ({"agency": "abc"}, "agency", "Select an agency from the list"),
        ({"agency": "9" * 30}, "agency", "Select an agency from the list"),
        ({"full_name": "Priya\x00Shah"}, "full_name", "Null characters are not allowed"),
        ({"phone": "1" * 41}, "phone", "Phone must be 40 characters or fewer"),
        ({"job_title": "x" * 151}, "job_title", "Job title must be 150 characters or fewer"),
    ],
)
def test_bad_user_details_are_explained_and_what_was_typed_is_kept(
    make, as_admin, overrides, field, message
):
    agency = make.agency()
    data = form_data(agency, **overrides)
    response = as_admin.post(CREATE_URL, data)
    html = _problem(response)
    assert message in html
    assert f'href="#id_{field}' in html  # the summary links to the field
    assert not User.objects.filter(full_name="Priya Shah").exists()
    assert not AuditEvent.objects.filter(action="accounts.user_created", actor__isnull=False)
    # What was typed in the other fields is still there.
    if field != "full_name":
        assert 'value="Priya Shah"' in html
    if field != "email":
        assert 'value="priya.shah@hub.example"' in html
    if field != "roles":
        assert re.search(rf'value="{Role.HUB_MANAGER}" checked', html)


def test_an_email_already_in_use_in_any_case_is_refused(make, as_admin):
    existing = make.hub_manager(email="sam.jones@hub.example")
    agency = make.agency()
    for typed in ("sam.jones@hub.example", "SAM.Jones@HUB.example", " sam.jones@hub.example "):
        html = _problem(as_admin.post(CREATE_URL, form_data(agency, email=typed)))
        assert "Someone already signs in with this email address" in html
    assert User.objects.filter(email__iexact=existing.email).count() == 1


def test_markup_in_a_name_is_shown_escaped(make, admin, as_admin):
    agency = make.agency()
    response = as_admin.post(CREATE_URL, form_data(agency, full_name=XSS))
    assert response.status_code == 302
    user = User.objects.get(full_name=XSS)
    for page in (
        as_admin.get(LIST_URL),
        as_admin.get(edit_url(user)),
        signed_in_page(user),
    ):
        html = page.content.decode()
        assert XSS not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def signed_in_page(user):
    client = Client()
    client.force_login(user)
    return client.get("/")


def test_markup_in_a_rejected_form_is_shown_escaped(make, as_admin):
    agency = make.agency()
    response = as_admin.post(CREATE_URL, form_data(agency, full_name=XSS, email=XSS))
    assert response.status_code == 200
    html = response.content.decode()
    assert XSS not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html


# Changing a user.


def test_administrator_edits_a_user_and_the_change_is_audited(make, admin, as_admin):
    old_agency = make.agency(name="Education")
    new_agency = make.agency(name="Housing")
    user = make.user(Role.AGENCY_PRACTITIONER, agency_=old_agency, full_name="Lee Smith")
    page = as_admin.get(edit_url(user)).content.decode()
    assert 'value="Lee Smith"' in page
    assert f'value="{Role.AGENCY_PRACTITIONER}" checked' in page

    response = as_admin.post(
        edit_url(user),
        form_data(
            new_agency,
            full_name="Lee Smith-Jones",
            email=user.email.upper(),
            roles=[Role.AGENCY_PRACTITIONER, Role.ADVICE_LINE_WORKER],
        ),
    )
    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert user.full_name == "Lee Smith-Jones"
    assert user.agency == new_agency
    assert user.roles == {Role.AGENCY_PRACTITIONER, Role.ADVICE_LINE_WORKER}
    event = AuditEvent.objects.get(action="accounts.user_updated")
    assert event.actor == admin
    changed = event.detail["changed"]
    assert changed["full_name"] == ["Lee Smith", "Lee Smith-Jones"]
    assert changed["agency"] == [old_agency.pk, new_agency.pk]
    assert "email" not in changed  # the same address in another case is no change


def test_editing_a_user_to_another_users_email_is_refused(make, as_admin):
    taken = make.hub_manager(email="taken@hub.example")
    user = make.hub_manager()
    html = _problem(
        as_admin.post(edit_url(user), form_data(user.agency, email="Taken@Hub.Example"))
    )
    assert "Someone already signs in with this email address" in html
    assert User.objects.get(pk=user.pk).email != taken.email


def test_an_unknown_user_is_404(as_admin):
    assert as_admin.get(reverse("accounts:user_edit", args=[987654])).status_code == 404
    response = as_admin.post(
        reverse("accounts:user_set_active", args=[987654]), {"active": "false"}
    )
    assert response.status_code == 404


# Deactivating and reactivating.


def test_deactivate_and_reactivate_are_audited(make, admin, as_admin):
    user = make.hub_manager()
    response = as_admin.post(active_url(user), {"active": "false"})
    assert response.status_code == 302
    assert response["Location"] == edit_url(user)
    assert not User.objects.get(pk=user.pk).is_active
    page = as_admin.get(edit_url(user)).content.decode()
    assert "deactivated." in page
    assert "Reactivate user" in page
    assert post_sign_in(Client(), user.email, "correct-horse-battery-staple").status_code == 200

    as_admin.post(active_url(user), {"active": "true"})
    assert User.objects.get(pk=user.pk).is_active
    events = AuditEvent.objects.filter(object_id=str(user.pk), actor=admin).order_by("id")
    assert [e.action for e in events] == ["accounts.user_deactivated", "accounts.user_reactivated"]
    assert post_sign_in(Client(), user.email, "correct-horse-battery-staple").status_code == 302


def test_an_administrator_cannot_deactivate_themself(admin, as_admin):
    response = as_admin.post(active_url(admin), {"active": "false"}, follow=True)
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.content.decode()
    assert User.objects.get(pk=admin.pk).is_active
    assert not AuditEvent.objects.filter(action="accounts.user_deactivated").exists()
    assert as_admin.get(LIST_URL).status_code == 200


def test_deactivated_users_are_never_deleted(make, admin, as_admin):
    user = make.hub_manager()
    as_admin.post(active_url(user), {"active": "false"})
    assert User.objects.filter(pk=user.pk).exists()
    html = as_admin.get(LIST_URL, {"status": "inactive"}).content.decode()
    assert user.full_name in html
    assert "Deactivated" in html


# Who may reach these pages.


def _admin_pages(make):
    user = make.hub_manager()
    return user, [
        ("get", LIST_URL),
        ("get", CREATE_URL),
        ("post", CREATE_URL),
        ("get", edit_url(user)),
        ("post", edit_url(user)),
        ("post", active_url(user)),
        ("post", reverse("accounts:user_reset_two_factor", args=[user.pk])),
        ("post", reverse("accounts:user_unlock", args=[user.pk])),
    ]


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_every_other_role_is_refused_every_user_page(make, signed_in, role):
    subject, pages = _admin_pages(make)
    actor = make.ROLE_FACTORIES[role]()
    client = signed_in(actor)
    before = AuditEvent.objects.count()
    for method, path in pages:
        data = form_data(make.agency(), email="intruder@hub.example", active="false")
        response = getattr(client, method)(path, data) if method == "post" else client.get(path)
        assert response.status_code == 403, (method, path)
        assert "You do not have access to this page" in response.content.decode()
    assert not User.objects.filter(email="intruder@hub.example").exists()
    assert User.objects.get(pk=subject.pk).is_active
    assert AuditEvent.objects.count() == before + len(pages)  # only the agencies made above


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
def test_post_only_user_pages_refuse_get_for_everyone(make, signed_in, role):
    subject = make.hub_manager()
    client = signed_in(make.ROLE_FACTORIES[role]())
    for path in (active_url(subject), reverse("accounts:user_reset_two_factor", args=[subject.pk])):
        assert client.get(path).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in(make, client):
    subject, pages = _admin_pages(make)
    for method, path in pages:
        response = getattr(client, method)(path)
        assert response.status_code == 302, (method, path)
        assert response["Location"].startswith(f"{SIGN_IN_URL}?next=")
    assert User.objects.get(pk=subject.pk).is_active


def test_a_user_with_the_administrator_role_among_others_may_manage_users(make, signed_in):
    user = make.user(Role.HUB_MANAGER, Role.ADMINISTRATOR)
    assert signed_in(user).get(LIST_URL).status_code == 200


def test_removing_the_administrator_role_takes_effect_at_once(make, admin, signed_in):
    other = make.administrator()
    client = signed_in(other)
    assert client.get(LIST_URL).status_code == 200
    services.update_user(
        actor=admin,
        user=other,
        email=other.email,
        full_name=other.full_name,
        agency=other.agency,
        roles=[Role.ANALYST],
    )
    assert client.get(LIST_URL).status_code == 403
