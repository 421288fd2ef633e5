"""The board's data: what a wall screen may show, in a fixed number of queries."""

import datetime as dt

import pytest

from mash.enquiries import board, services
from mash.enquiries.models import Sensitivity
from tests.enquiries import journey

pytestmark = pytest.mark.django_db


def test_rows_show_initials_ages_rag_and_agency_status(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC), tick=False)
    hub = journey.small_hub()
    enquiry = journey.rated_enquiry(hub, rag="red")
    services.answer_request(
        actor=hub.practitioners["police"],
        request=journey.request_for(enquiry, hub.police),
        items=[services.ItemEntry(summary="x", sensitivity=Sensitivity.MASH_ONLY)],
    )
    data = board.build()
    assert [r.reference for r in data.rows] == [enquiry.reference]
    row = data.rows[0]
    assert [(c.initials, c.age) for c in row.children] == [("A.H.", "8y")]
    assert row.children[0].name == ""
    names = [name for _, _, name in data.agencies]
    assert row.cells[names.index("Police")][2] == "Answered"
    assert row.cells[names.index("Education")][2] == "Pending"
    assert row.remaining_seconds == 4 * 3600
    time_machine.move_to(dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.UTC), tick=False)
    late = board.build().rows[0]
    assert late.overdue
    assert late.cells[names.index("Education")][2] == "OVERDUE"
    assert board.build(with_names=True).rows[0].children[0].name == "Amelia Hart"


def test_overdue_first_then_rag_then_time_left(time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC), tick=False)
    hub = journey.small_hub()
    green = journey.rated_enquiry(hub, rag="green")
    time_machine.move_to(dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.UTC), tick=False)
    red = journey.rated_enquiry(hub, rag="red")
    waiting = journey.consented_enquiry(hub)
    assert [r.pk for r in board.build().rows] == [red.pk, green.pk, waiting.pk]
    time_machine.move_to(dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.UTC), tick=False)
    rows = board.build().rows
    assert [r.pk for r in rows][:2] == [red.pk, green.pk]
    assert all(r.overdue for r in rows[:2])
    assert board.build(filters=board.Filters(rags=("green",))).rows[0].pk == green.pk


def test_the_number_of_queries_does_not_grow_with_the_board(django_assert_num_queries):
    hub = journey.small_hub()
    journey.rated_enquiry(hub)
    with django_assert_num_queries(7) as one:
        board.build()
    for _ in range(6):
        journey.rated_enquiry(hub)
    with django_assert_num_queries(len(one.captured_queries)):
        board.build()
