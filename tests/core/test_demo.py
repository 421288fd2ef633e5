"""`mash demo`: a believable hub, made through the services, safe to run twice."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.gb import nhs, upn

from mash.accounts.models import Agency, Role, User
from mash.contacts.models import Contact, ScreeningOutcome
from mash.core import demo
from mash.core.models import AuditEvent, Hub
from mash.enquiries.models import OPEN_STATUSES, Decision, Enquiry, Rag
from mash.people.models import Household, Person

SMALL = 300


def _run(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "agencies": Agency.objects.count(),
        "users": User.objects.count(),
        "people": Person.objects.count(),
        "households": Household.objects.count(),
        "audit": AuditEvent.objects.count(),
        "contacts": Contact.objects.count(),
        "decisions": Decision.objects.count(),
    }


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """One small demo hub for the checks in TestSmallDemo, seeded once for the class.

    It lives in a transaction rolled back after the class; each test's own
    changes roll back to a savepoint inside it, as usual.
    """
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
        try:
            # The hub, its staff and its index (test_demo_history.py checks the history).
            output = _run(people=SMALL, contacts=0, open_enquiries=0)
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def db_seeded(seeded, db):
    return seeded


class TestSmallDemo:
    """Checks of one demo hub, seeded once (each test's own changes roll back)."""

    def test_the_hub_is_named(self, db_seeded):
        hub = Hub.load()
        assert hub.name == demo.HUB_NAME
        assert hub.la_code == demo.LA_CODE

    def test_sixteen_agencies_some_co_located_some_virtual(self, db_seeded):
        agencies = list(Agency.objects.all())
        assert len(agencies) == 16
        co_located = sum(a.co_located for a in agencies)
        assert co_located >= 3
        assert len(agencies) - co_located >= 3
        assert all(a.shared_inbox.endswith("@mash.example") for a in agencies)
        assert all(
            a.protocol_signed_on and a.protocol_signed_on < timezone.localdate() for a in agencies
        )
        assert len({a.kind for a in agencies}) == 16

    def test_thirty_two_users_covering_every_role(self, db_seeded):
        users = list(User.objects.prefetch_related("role_grants"))
        assert len(users) == 32
        held = Counter(role for u in users for role in u.roles)
        assert set(held) == set(Role.values)
        assert all(u.agency_id is not None and u.is_active for u in users)
        practitioners = {u.agency_id for u in users if Role.AGENCY_PRACTITIONER in u.roles}
        assert len(practitioners) >= 15  # a practitioner in (nearly) every agency

    def test_the_printed_sign_ins_work(self, db_seeded, settings):
        # The class's hub was seeded before the suite's fast hasher was set.
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
        users = {
            u.email: u for u in User.objects.filter(email__in=[s.email for s in demo.SIGN_INS])
        }
        assert len(users) == len(demo.SIGN_INS) == 9
        for sign_in in demo.SIGN_INS:
            user = users[sign_in.email]
            assert set(sign_in.roles) <= user.roles
            assert user.agency is not None
            assert user.agency.name == sign_in.agency
        # Every demo user shares one password (hashed once, for speed): check it once.
        assert len({u.password for u in User.objects.all()}) == 1
        assert users[f"manager@{demo.EMAIL_DOMAIN}"].check_password(settings.MASH_DEMO_PASSWORD)

    def test_the_person_index_is_full_and_in_households(self, db_seeded):
        people = list(Person.objects.all())
        assert len(people) >= SMALL
        assert all(p.household_id is not None for p in people)
        assert Household.objects.count() >= SMALL // 8
        sizes = Counter(p.household_id for p in people)
        assert max(sizes.values()) >= 4
        assert min(sizes.values()) >= 2  # at least an adult and a child

    def test_every_nhs_number_is_valid_and_from_the_test_range(self, db_seeded):
        numbers = [n for n in Person.objects.values_list("nhs_number", flat=True) if n]
        assert len(numbers) > SMALL * 0.8
        assert all(nhs.is_valid(n) for n in numbers)
        assert all(n.startswith("999") for n in numbers)
        assert len(set(numbers)) == len(numbers)

    def test_every_unique_pupil_number_is_valid(self, db_seeded):
        numbers = [n for n in Person.objects.values_list("upn", flat=True) if n]
        assert len(numbers) > 20
        assert all(upn.is_valid(n) for n in numbers)
        assert all(n[1:4] == demo.LA_CODE for n in numbers)

    def test_adults_children_and_unborn_children(self, db_seeded):
        today = timezone.localdate()
        people = list(Person.objects.all())
        unborn = [p for p in people if p.is_unborn]
        born = [p for p in people if not p.is_unborn]
        assert unborn, "the demo should include unborn children"
        for p in unborn:
            assert p.date_of_birth is None
            assert p.expected_date_of_birth is not None
            assert p.expected_date_of_birth > today
            assert p.nhs_number is None
            assert p.upn is None
        ages = [age for p in born if (age := p.age_on(today)) is not None]
        assert len(ages) == len(born)  # everyone born has a date of birth
        assert sum(a >= 18 for a in ages) > SMALL * 0.25
        assert sum(a < 18 for a in ages) > SMALL * 0.25
        assert all(0 <= a <= 60 for a in ages)
        # No pupil number before school age.
        assert all(p.upn is None for p in born if (p.age_on(today) or 0) < 4)

    def test_every_agency_user_and_person_created_is_audited(self, db_seeded):
        counts = Counter(AuditEvent.objects.values_list("action", flat=True))
        assert counts["accounts.agency_created"] == Agency.objects.count() == 16
        assert counts["accounts.user_created"] == User.objects.count() == 32
        assert counts["people.person_created"] == Person.objects.count()
        assert counts["core.hub_updated"] == 1
        people_ids = set(Person.objects.values_list("pk", flat=True))
        audited = AuditEvent.objects.filter(action="people.person_created").values_list(
            "object_id", flat=True
        )
        assert {int(i) for i in audited} == people_ids
        coordinator = User.objects.get(email=f"coordinator@{demo.EMAIL_DOMAIN}")
        assert (
            AuditEvent.objects.filter(action="people.person_created")
            .exclude(actor=coordinator)
            .count()
            == 0
        )

    def test_the_command_reports_what_it_made(self, db_seeded):
        assert "Seeding the demo hub" in db_seeded
        assert "16 agencies" in db_seeded
        assert "32 users" in db_seeded
        assert "people in" in db_seeded
        assert "Demo sign-ins" in db_seeded
        for sign_in in demo.SIGN_INS:
            assert sign_in.email in db_seeded

    def test_running_it_again_changes_nothing_and_prints_the_sign_ins(self, db_seeded):
        before = _counts()
        output = _run(people=SMALL, contacts=10, open_enquiries=3)
        assert _counts() == before
        assert "already holds data" in output
        assert "Seeding" not in output
        assert f"manager@{demo.EMAIL_DOMAIN}" in output
        assert "Demo sign-ins (password for each:" in output


@pytest.mark.django_db
def test_it_leaves_a_database_with_data_alone(make):
    make.agency(name="A real agency")
    output = _run(people=10)
    assert Agency.objects.count() == 1
    assert User.objects.count() == 0
    assert "already holds data" in output
    assert "Demo sign-ins" not in output  # no demo users, so none to print


@pytest.mark.django_db
def test_reset_is_refused_in_production(settings, make):
    settings.PRODUCTION = True
    make.agency(name="Live agency")
    with pytest.raises(CommandError, match="production"):
        _run(reset=True, people=10)
    assert Agency.objects.filter(name="Live agency").exists()


@pytest.mark.django_db(transaction=True)
def test_reset_erases_and_seeds_afresh(make):
    # A transaction per statement: PostgreSQL cannot TRUNCATE tables with
    # foreign-key checks still pending in an open transaction.
    make.agency(name="To be erased")
    output = _run(reset=True, people=40, contacts=12, open_enquiries=4)
    assert "Database erased." in output
    assert not Agency.objects.filter(name="To be erased").exists()
    assert Agency.objects.count() == 16
    assert User.objects.count() == 32
    assert Person.objects.count() >= 40
    first_run = _counts()
    assert Contact.objects.exists()
    output = _run(reset=True, people=40, contacts=12, open_enquiries=4)
    assert _counts() == first_run  # the same seed gives the same hub
    assert (
        not AuditEvent.objects.filter(action="accounts.agency_created")
        .exclude(object_id__in=[str(pk) for pk in Agency.objects.values_list("pk", flat=True)])
        .exists()
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_the_default_size_holds_at_least_2000_people_and_two_years_of_work():
    output = _run()
    assert Person.objects.count() >= 2000
    assert "people in" in output
    nhs_numbers = [n for n in Person.objects.values_list("nhs_number", flat=True) if n]
    assert all(nhs.is_valid(n) and n.startswith("999") for n in nhs_numbers)
    # About 1,500 contacts over two years, and about 30 enquiries open today.
    assert 1400 <= Contact.objects.count() <= 1600
    assert 25 <= Enquiry.objects.filter(status__in=OPEN_STATUSES).count() <= demo.DEFAULT_OPEN
    screened = Counter(Contact.objects.values_list("screening_outcome", flat=True))
    out = screened[ScreeningOutcome.NO_FURTHER_ACTION] + screened[ScreeningOutcome.ADVICE]
    out += screened[ScreeningOutcome.SIGNPOSTED]
    assert 0.35 <= out / Contact.objects.count() <= 0.55
    rags = Counter(Enquiry.objects.exclude(rag="").values_list("rag", flat=True))
    rated = sum(rags.values())
    assert rags[Rag.URGENT] < 0.08 * rated
    assert 0.12 < rags[Rag.RED] / rated < 0.3
    assert 0.35 < rags[Rag.AMBER] / rated < 0.55
    assert 0.2 < rags[Rag.GREEN] / rated < 0.4
    assert "contacts over two years" in output
