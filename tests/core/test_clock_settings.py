"""Deadlines and working time: the administrator's page and its effect on new deadlines."""

import datetime as dt

import pytest
from django.urls import reverse

from mash.accounts.models import Role
from mash.core import clock
from mash.core.models import AuditEvent, ClosureDay, Hub
from mash.enquiries.models import AgencyRequest
from tests.enquiries import journey

pytestmark = pytest.mark.django_db
URL = reverse("core:clock_settings")


def _valid(**overrides):
    data = {
        "save_clocks": "1",
        "urgent_amount": "2",
        "urgent_unit": "clock_hours",
        "red_amount": "4",
        "red_unit": "clock_hours",
        "amber_amount": "1",
        "amber_unit": "working_days",
        "green_amount": "3",
        "green_unit": "working_days",
        "working_weekdays": ["0", "1", "2", "3", "4"],
        "opens_at": "08:30",
        "closes_at": "17:00",
        "skip_bank_holidays": "on",
    }
    data.update(overrides)
    return data


def test_administrator_sets_durations_and_working_time(make, signed_in):
    client = signed_in(make.administrator())
    assert client.get(URL).status_code == 200
    response = client.post(URL, _valid())
    assert response.status_code == 302
    hub = Hub.load()
    assert hub.duration_for("amber") == clock.Duration(1, "working_days")
    assert hub.duration_for("urgent") == clock.Duration(2, "clock_hours")
    assert hub.opens_at == dt.time(8, 30)
    event = AuditEvent.objects.get(action="core.clocks_updated")
    assert "amber_unit" in event.detail["changed"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"red_amount": ""}, "Enter how long agencies have for red"),
        ({"red_amount": "0"}, "Red must be at least 1"),
        ({"red_amount": "9999"}, "Red must be 500 or fewer"),
        ({"red_amount": "four"}, "Red must be a whole number, like 4"),
        ({"amber_unit": "fortnights"}, "Select how amber is counted"),
        ({"working_weekdays": []}, "Select at least one working day"),
        ({"working_weekdays": ["9"]}, "Select working days from the list"),
        ({"opens_at": "25:00"}, "Enter a time like 09:00"),
        ({"opens_at": "18:00"}, "Working time must end after it starts"),
        ({"closes_at": "<script>"}, "Enter a time like 17:00"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(make, signed_in, overrides, message):
    before = Hub.load()
    response = signed_in(make.administrator()).post(URL, _valid(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "There is a problem" in html
    assert "<script>" not in html
    after = Hub.load()
    assert (after.red_amount, after.amber_unit, after.opens_at) == (
        before.red_amount,
        before.amber_unit,
        before.opens_at,
    )


def test_closure_days_are_added_removed_and_skipped_by_working_time(make, signed_in):
    client = signed_in(make.administrator())
    response = client.post(
        URL,
        {
            "add_closure": "1",
            "day-day": "23",
            "day-month": "11",
            "day-year": "2026",
            "description": "Council closure",
        },
    )
    assert response.status_code == 302
    closure = ClosureDay.objects.get()
    assert closure.day == dt.date(2026, 11, 23)
    friday = dt.datetime(2026, 11, 20, 16, 30, tzinfo=clock.LONDON)
    due = clock.deadline(friday, clock.Duration(1, "working_days"), Hub.load().calendar())
    assert due.astimezone(clock.LONDON) == dt.datetime(2026, 11, 24, 16, 30, tzinfo=clock.LONDON)
    client.post(URL, {"remove_closure": str(closure.pk)})
    assert not ClosureDay.objects.exists()
    assert AuditEvent.objects.filter(action="core.closure_day_removed").exists()
    assert client.post(URL, {"remove_closure": "9" * 40}).status_code == 302


def test_a_bad_closure_date_is_explained(make, signed_in):
    response = signed_in(make.administrator()).post(
        URL, {"add_closure": "1", "day-day": "31", "day-month": "2", "day-year": "2027"}
    )
    assert "must be a real date" in response.content.decode()


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_only_administrators_reach_the_page(make, signed_in, role):
    client = signed_in(make.ROLE_FACTORIES[role]())
    assert client.get(URL).status_code == 403
    assert client.post(URL, _valid()).status_code == 403


def test_new_ratings_use_the_hubs_working_days(make, time_machine):
    hub = Hub.load()
    hub.amber_amount, hub.amber_unit = 1, "working_days"
    hub.save()
    time_machine.move_to(dt.datetime(2026, 11, 20, 16, 30, tzinfo=clock.LONDON), tick=False)
    enquiry = journey.rated_enquiry(journey.small_hub(), rag="amber")
    request = AgencyRequest.objects.filter(enquiry=enquiry).first()
    assert request is not None
    assert request.deadline_at.astimezone(clock.LONDON) == dt.datetime(
        2026, 11, 23, 16, 30, tzinfo=clock.LONDON
    )
    assert request.duration == clock.Duration(1, "working_days")
