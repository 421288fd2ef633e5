"""Each figure on the performance dashboard, on a small hand-made hub, answers worked out by hand.

The hub is described in tests/reporting/dashboard_data.py; the comments here show the sums.
Runs on SQLite and on PostgreSQL (DATABASE_URL): the figures come from SQL, which differs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mash.core.models import ClosureDay, Hub
from mash.reporting import performance
from mash.reporting.performance import ALL, Figures, Period
from tests.reporting import dashboard_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub():
    return data.build()


@pytest.fixture
def figures(hub) -> Figures:
    return Figures(data.PERIOD, now=data.NOW)


def rows(figures: Figures, slug: str) -> list[list]:
    return performance.build_tables(figures, [slug])[slug].rows


def approx(value):
    return pytest.approx(value, abs=1e-9)


# --- Periods ----------------------------------------------------------------------------------


def test_a_period_runs_from_london_midnight_to_london_midnight():
    period = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert period.days == 31
    assert period.start_at == dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC)
    # 1 April 2025 is in British Summer Time: its midnight is 23:00 UTC the day before.
    assert period.end_at == dt.datetime(2025, 3, 31, 23, 0, tzinfo=dt.UTC)
    assert period.previous() == Period(dt.date(2025, 1, 29), dt.date(2025, 2, 28))


def test_the_default_period_is_the_last_twelve_months_ending_today():
    assert performance.default_period(dt.date(2026, 5, 10)) == Period(
        dt.date(2025, 5, 11), dt.date(2026, 5, 10)
    )
    # From 29 February, a year back has no 29th: the period starts on 1 March.
    assert performance.default_period(dt.date(2028, 2, 29)) == Period(
        dt.date(2027, 3, 1), dt.date(2028, 2, 29)
    )


def test_only_those_allowed_get_figures(make):
    for allowed in (make.hub_manager(), make.analyst()):
        assert isinstance(performance.figures_for(allowed, data.PERIOD), Figures)
    for refused in (make.coordinator(), make.practitioner(), make.administrator()):
        with pytest.raises(PermissionDenied):
            performance.figures_for(refused, data.PERIOD)


# --- Volumes ----------------------------------------------------------------------------------


def test_contacts_by_referral_source(figures):
    found = {
        label[:3].strip(): (this, before)
        for label, this, before in rows(figures, "contacts-by-source")
    }
    # This period: 2A c1 c4 c6 c7 c9; 6 c2; 3A c3; 1A c5. The draft, the contact at 00:00 on
    # 3 March and the one at 23:00 on 5 January are outside both periods or not submitted.
    # Previous: 2A q1 (00:00 on 6 January, the first moment) and q2; 6 q3.
    assert found["2A"] == (5, 2)
    assert found["6 P"] == (1, 1)
    assert found["3A"] == (1, 0)
    assert found["1A"] == (1, 0)
    assert sum(this for this, _ in found.values()) == 8
    assert sum(before for _, before in found.values()) == 3
    assert len(found) == 22  # every census source, even with no contacts


def test_contacts_by_channel(figures):
    found = {label: (this, before) for label, this, before in rows(figures, "contacts-by-channel")}
    assert found["Phone"] == (5, 2)  # c1 c5 c6 c7 c9; q1 q3
    assert found["Email"] == (1, 1)
    assert found["Online form"] == (1, 0)
    assert found["Police notification"] == (1, 0)
    assert found["Letter"] == (0, 0)


def test_screening_outcomes(figures):
    found = {label: (this, before) for label, this, before in rows(figures, "screening-outcomes")}
    assert found == {
        "No further action": (1, 0),
        "Advice given": (1, 0),
        "Signposted": (0, 1),
        "Progress to MASH enquiry": (5, 2),
        "Not screened yet": (1, 0),  # c4, awaiting screening
    }


def test_enquiries_by_rag(figures):
    found = {label: (this, before) for label, this, before in rows(figures, "enquiries-by-rag")}
    # Opened this period: e1 red, e2 red (re-rated from amber), e3 green, e4 amber, e6 red,
    # e7 never rated. Previous: e5 urgent.
    assert found == {
        "Urgent": (0, 1),
        "Red": (3, 0),
        "Amber": (1, 0),
        "Green": (1, 0),
        "Not rated yet": (1, 0),
    }


# --- Timeliness -------------------------------------------------------------------------------


def _stage(figures: Figures, slug: str) -> dict[str, list]:
    return {row[0]: row[1:] for row in rows(figures, slug)}


def test_time_from_contact_to_first_rating(figures):
    found = _stage(figures, "time-to-rating")
    # First ratings this period: e1 red 2h; e6 red 10h (contact Sunday 23:00, rated 09:00);
    # e2 amber 6h; e4 amber 2h; e3 green 2h. e2's re-rating is not a first rating.
    # Red [2, 10]: median 6, 90th 2 + 0.9 x 8 = 9.2, within 4h: 1 of 2.
    n, median, p90, within, target, *before = found["Red"]
    assert (n, median, within, target) == (2, 6.0, 0.5, "4 clock hours")
    assert p90 == approx(9.2)
    assert before == [0, None, None, None]
    # Amber [2, 6]: median 4, 90th 2 + 0.9 x 4 = 5.6, both within 24h.
    assert found["Amber"][:4] == [2, 4.0, approx(5.6), 1.0]
    assert found["Green"][:4] == [1, 2.0, 2.0, 1.0]
    assert found["Urgent"][:4] == [0, None, None, None]
    # All [2, 2, 2, 6, 10]: median 2; 90th at 0.9 x 4 = 3.6: 6 + 0.6 x 4 = 8.4; 4 of 5 within.
    assert found["All ratings"][:4] == [5, 2.0, approx(8.4), 0.8]
    # Previous period: e5 urgent, 2h after its contact.
    assert found["Urgent"][5:] == [1, 2.0, 2.0, 1.0]
    assert found["All ratings"][5:] == [1, 2.0, 2.0, 1.0]


def test_time_from_rating_to_decision_starts_at_the_latest_rating(figures):
    found = _stage(figures, "rating-to-decision")
    # Decided this period: e1 red 3h; e2 red 3h (from its re-rating at 09:00, not its first
    # rating); e6 red 3h; e3 green 72h (late for 48h).
    assert found["Red"][:4] == [3, 3.0, 3.0, 1.0]
    assert found["Green"][:4] == [1, 72.0, 72.0, 0.0]
    # All [3, 3, 3, 72]: median 3; 90th at 2.7: 3 + 0.7 x 69 = 51.3; 3 of 4 within.
    assert found["All ratings"][:4] == [4, 3.0, approx(51.3), 0.75]
    assert found["Urgent"][5:] == [1, 2.0, 2.0, 1.0]


def test_time_from_contact_to_decision(figures):
    found = _stage(figures, "contact-to-decision")
    # e1 5h, e6 13h, e2 26h (all red, all over 4h); e3 74h green (over 48h).
    # Red [5, 13, 26]: median 13, 90th at 1.8: 13 + 0.8 x 13 = 23.4.
    assert found["Red"][:4] == [3, 13.0, approx(23.4), 0.0]
    assert found["Green"][:4] == [1, 74.0, 74.0, 0.0]
    # All [5, 13, 26, 74]: median 19.5; 90th at 2.7: 26 + 0.7 x 48 = 59.6.
    assert found["All ratings"][:4] == [4, 19.5, approx(59.6), 0.0]
    # Previous: e5 urgent decided exactly 4 hours after the contact: on the deadline, within.
    assert found["Urgent"][5:] == [1, 4.0, 4.0, 1.0]


def test_within_target_counts_working_hours_when_the_hub_says_so(hub):
    Hub.objects.filter(pk=1).update(red_unit="working_hours")
    found = _stage(Figures(data.PERIOD, now=data.NOW), "contact-to-decision")
    # Red 4 working hours (Monday to Friday, 9:00 to 17:00):
    # e1 Mon 09:30 -> 14:30: 5 working hours, late.
    # e6 Sun 23:00 -> Mon 12:00: 3 working hours (9:00 to 12:00), within.
    # e2 Tue 10:00 -> Wed 12:00: 7 + 3 = 10 working hours, late.
    assert found["Red"][:5] == [3, 13.0, approx(23.4), approx(1 / 3), "4 working hours"]
    # Times are still elapsed hours; only "within" counts the way the clock counts.


# --- Referrals decided within one working day --------------------------------------------------


def test_referrals_decided_within_one_working_day(figures):
    found = {row[0]: row[1:] for row in rows(figures, "referrals-one-working-day")}
    # A (s47): contact Mon 09:30, deadline Tue 09:30, decided Mon 14:30: within.
    # B (s17): contact Tue 10:00, deadline Wed 10:00, decided Wed 12:00: late.
    # E (s17): contact Sun 23:00, deadline the close of Monday (17:00), decided Mon 12:00: within.
    # Previous: A (s17) contact Mon 6 Jan 00:00, deadline 17:00 that day, decided 04:00: within.
    assert found["Strategy discussion / section 47 enquiry"] == [1, 1, 1.0, 0, 0, None]
    assert found["Child and family assessment (section 17)"] == [2, 1, 0.5, 1, 1, 1.0]
    assert found["All referrals"] == [3, 2, approx(2 / 3), 1, 1, 1.0]


def _london(day: str, time: str) -> dt.datetime:
    from mash.core import clock

    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=clock.LONDON)


def _referral_at(hub: data.Hub, child: str, received: dt.datetime, decided: dt.datetime) -> None:
    made = data.contact(hub, received, "2A", "phone", "progress", child=child)
    name = f"x{made.pk}"
    enquiry = data.enquiry(hub, name, made, received, [("red", received)], decided)
    data.decide(hub, enquiry, child, "s47", decided)


def _one_day_share(period: Period) -> tuple[int, int]:
    found = Figures(period, now=data.NOW).referrals_one_day[(ALL, 0)]
    return found["within"], found["n"]


@pytest.mark.parametrize("closed_on_tuesday", [False, True])
def test_one_working_day_skips_bank_holidays_and_ends_at_the_close(make, closed_on_tuesday):
    """Easter 2025: Good Friday 18 April and Easter Monday 21 April are bank holidays."""
    from mash.core import clock

    hub = data.Hub(manager=make.hub_manager(), police=make.agency(), health=make.agency())
    for key, (given, family, born) in data.CHILDREN.items():
        hub.people[key] = data.Person.objects.create(
            given_name=given, family_name=family, date_of_birth=born
        )
    cases = [
        # Thursday 14:00: the next working day is Tuesday 22nd; due 14:00 then.
        ("A", _london("2025-04-17", "14:00"), _london("2025-04-22", "13:59"), True),
        ("B", _london("2025-04-17", "14:00"), _london("2025-04-22", "14:01"), False),
        # Good Friday (closed): due at the close of Tuesday, 17:00; decided on the stroke.
        ("C", _london("2025-04-18", "10:00"), _london("2025-04-22", "17:00"), True),
        # Saturday: due 17:00 Tuesday; decided at 17:30, after the close: late, though no
        # more working time had passed.
        ("D", _london("2025-04-19", "10:00"), _london("2025-04-22", "17:30"), False),
        # Thursday at 9:00 sharp (the opening): a whole working day is that day, to 17:00.
        ("E", _london("2025-04-17", "09:00"), _london("2025-04-17", "17:00"), True),
    ]
    if closed_on_tuesday:
        ClosureDay.objects.create(day=dt.date(2025, 4, 22), description="Office move")
    calendar = Hub.load().calendar()
    for child, received, decided, within in cases:
        _referral_at(hub, child, received, decided)
        # The hand-worked deadlines agree with the clock's (a check on the examples only).
        due = clock.deadline(received, performance.ONE_WORKING_DAY, calendar)
        assert (decided <= due) == (within or closed_on_tuesday), (child, due)
    period = Period(dt.date(2025, 4, 14), dt.date(2025, 4, 27))
    # With Tuesday closed too, everything is due on Wednesday: all five within.
    assert _one_day_share(period) == ((5, 5) if closed_on_tuesday else (3, 5))


def test_one_working_day_across_the_clock_change(make):
    """Clocks went forward on Sunday 30 March 2025: 16:00 GMT Friday is due 16:00 BST Monday."""
    hub = data.Hub(manager=make.hub_manager(), police=make.agency(), health=make.agency())
    for key, (given, family, born) in data.CHILDREN.items():
        hub.people[key] = data.Person.objects.create(
            given_name=given, family_name=family, date_of_birth=born
        )
    friday = dt.datetime(2025, 3, 28, 16, 0, tzinfo=dt.UTC)
    # 16:00 BST on Monday 31 March is 15:00 UTC.
    _referral_at(hub, "A", friday, dt.datetime(2025, 3, 31, 14, 59, tzinfo=dt.UTC))
    _referral_at(hub, "B", friday, dt.datetime(2025, 3, 31, 15, 1, tzinfo=dt.UTC))
    assert _one_day_share(Period(dt.date(2025, 3, 24), dt.date(2025, 4, 6))) == (1, 2)


# --- Agencies ---------------------------------------------------------------------------------


def test_agencies(figures):
    found = {row[0]: row[1:] for row in rows(figures, "agencies")}
    # Police this period: e1 on time (2h), e2 late (22h), e6 on time (3.5h), e4 pending past
    # its deadline: 4 received, 2 of 4 due on time, median of [2, 3.5, 22] = 3.5, 1 overdue.
    # Previous: e5 answered in 1h, on time.
    assert found["Northmoor Police"] == [4, 0.5, 3.5, 1, 1, 1.0, 1.0]
    # Health: e1's request was not required (not counted); e2 18h and e4 16h (nothing held),
    # both on time: median 17. Overdue now: e8's request from 2024, still waiting.
    # Previous: e5 answered after 6h, late.
    assert found["Northmoor Health Visiting"] == [2, 1.0, 17.0, 1, 1, 0.0, 6.0]
    # An agency that has left the hub, with nothing to show, has no row.
    assert "Disbanded Agency" not in found


# --- Decisions --------------------------------------------------------------------------------


def test_decisions_by_outcome(figures):
    found = {label: (this, before) for label, this, before in rows(figures, "decisions-by-outcome")}
    assert found == {
        "Strategy discussion / section 47 enquiry": (1, 0),  # A
        "Referral to children's social care: child and family assessment (section 17)": (2, 1),
        "Early help assessment": (1, 0),  # C
        "Signpost to universal services": (0, 0),
        "No further action": (1, 0),  # D
    }


def test_conversion_to_early_help_and_the_re_referral_rate(figures):
    found = {row[0]: row[1:] for row in rows(figures, "early-help-and-re-referrals")}
    # Five children decided this period, one to early help; before: one child, none.
    assert found["Conversion to early help (children decided)"] == [1, 5, 0.2, 0, 1, 0.0]
    # Referrals this period: A (s47, 3 Feb: A had a s17 on 6 Jan: a re-referral), B (s17:
    # B's early help in December is not a referral), E (s17: E's referral in February 2024
    # is over 12 months before). Previous: A's s17 on 6 January, A's first referral.
    assert found["Re-referral rate (referrals)"] == [1, 3, approx(1 / 3), 0, 1, 0.0]


def test_a_re_referral_looks_back_to_the_same_date_a_year_before(make):
    """A referral on 29 February 2024 looks back to 28 February 2023, from the same time."""
    hub = data.Hub(manager=make.hub_manager(), police=make.agency(), health=make.agency())
    for key, (given, family, born) in data.CHILDREN.items():
        hub.people[key] = data.Person.objects.create(
            given_name=given, family_name=family, date_of_birth=born
        )
    leap = dt.datetime(2024, 2, 29, 10, 0, tzinfo=dt.UTC)
    # A: an earlier referral at 11:00 on 28 February 2023, inside the 12 months.
    _referral_at(
        hub,
        "A",
        dt.datetime(2023, 2, 28, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2023, 2, 28, 11, 0, tzinfo=dt.UTC),
    )
    _referral_at(hub, "A", leap - dt.timedelta(hours=2), leap)
    # B: an earlier referral at 09:00 on 28 February 2023, just outside.
    _referral_at(
        hub,
        "B",
        dt.datetime(2023, 2, 28, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2023, 2, 28, 9, 0, tzinfo=dt.UTC),
    )
    _referral_at(hub, "B", leap - dt.timedelta(hours=2), leap)
    found = Figures(Period(dt.date(2024, 2, 26), dt.date(2024, 3, 3)), now=data.NOW).decisions
    referrals = found["s47"]
    assert (referrals["cur"], referrals["rr_cur"]) == (2, 1)


# --- Police notifications ---------------------------------------------------------------------


def test_police_notifications(figures):
    found = {row[0]: row[1:] for row in rows(figures, "police-notifications")}
    # This period: 3 Feb progressed; 4 Feb record only, poor (no narrative); 5 Feb not yet
    # triaged; 2 Mar 23:59 progressed and poor. Previous: 10 Jan record only.
    assert found["Received"] == [4, None, 1, None]
    assert found["Progressed to a contact"] == [2, 0.5, 0, 0.0]
    assert found["Marked poor quality"] == [2, 0.5, 0, 0.0]


# --- Headline and weekly trends ---------------------------------------------------------------


def test_headline_figures(figures):
    found = {row[0]: (row[1].value, row[2].value) for row in rows(figures, "headline")}
    assert found["Contacts received"] == (8, 3)
    assert found["Enquiries opened"] == (6, 1)
    assert found["Children decided"] == (5, 1)
    assert found["Median time from contact to decision (hours)"] == (19.5, 4.0)
    assert found["Referrals decided within one working day"] == (approx(2 / 3), 1.0)
    # Police 2 of 4 due + health 2 of 2 = 4 of 6; before: 1 of 2.
    assert found["Agency requests answered on time"] == (approx(4 / 6), 0.5)
    assert found["Conversion to early help"] == (0.2, 0.0)
    assert found["Re-referral rate"] == (approx(1 / 3), 0.0)
    assert found["Police notifications received"] == (4, 1)


def test_weekly_trends(figures):
    weeks = ["3 Feb 2025", "10 Feb 2025", "17 Feb 2025", "24 Feb 2025"]
    volumes = rows(figures, "weekly-volumes")
    # Contacts, enquiries opened, children decided, police notifications per week.
    assert volumes == [
        [weeks[0], 5, 4, 4, 3],  # c1-c5; e1 e2 e3 e6; A B C E; 3 notifications
        [weeks[1], 2, 2, 1, 0],  # c6 c9; e4 e7; D
        [weeks[2], 0, 0, 0, 0],
        [weeks[3], 1, 0, 0, 1],  # c7 on Sunday 2 March; the notification at 23:59 that day
    ]
    shares = rows(figures, "weekly-shares")
    # Week 1: referrals A, B, E: 2 of 3 in a working day; requests made that week: police
    # e1, e2, e6 and health e2: 3 of 4 on time; 1 of 4 children to early help; 1 of 3
    # referrals a re-referral. Week 2: police e4 (overdue) and health e4 (on time): 1 of 2;
    # D decided NFA: 0 of 1 to early help; no referrals.
    assert shares[0] == [weeks[0], approx(2 / 3), 0.75, 0.25, approx(1 / 3)]
    assert shares[1] == [weeks[1], None, 0.5, 0.0, None]
    assert shares[2] == [weeks[2], None, None, None, None]
    times = rows(figures, "weekly-times")
    # Week 1: e1 5h, e6 13h, e2 26h: median 13. Week 2: e3 74h.
    assert times == [
        [weeks[0], 3, 13.0],
        [weeks[1], 1, 74.0],
        [weeks[2], 0, None],
        [weeks[3], 0, None],
    ]


def test_a_part_week_is_marked():
    period = Period(dt.date(2025, 2, 5), dt.date(2025, 2, 18))
    f = Figures(period, now=data.NOW)
    labels = [performance.week_label(w, period) for w in f.weeks]
    assert labels == ["3 Feb 2025 (part week)", "10 Feb 2025", "17 Feb 2025 (part week)"]


# --- Bounded queries --------------------------------------------------------------------------


def _queries_for_every_table() -> int:
    with CaptureQueriesContext(connection) as captured:
        performance.build_tables(Figures(data.PERIOD, now=data.NOW))
    return len(captured.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_data(hub):
    small = _queries_for_every_table()
    # Ten times as many of everything, in both periods.
    for n in range(10):
        _more(n)
    assert _queries_for_every_table() == small
    # Sixteen tables from fewer than thirty queries (three more on SQLite: its calendar table).
    assert small <= 30


def _more(n: int) -> None:
    from tests import factories

    police = factories.agency(name=f"Police {n}")
    hub = data.Hub(
        manager=factories.hub_manager(agency_=police), police=police, health=factories.agency()
    )
    for key, (given, family, born) in data.CHILDREN.items():
        hub.people[key] = data.Person.objects.create(
            given_name=given, family_name=family, date_of_birth=born
        )
    for day in range(3, 28, 3):
        received = data.at(f"2025-02-{day:02d}", "10:00")
        made = data.contact(hub, received, "2A", "phone", "progress", child="A")
        enquiry = data.enquiry(
            hub,
            f"m{made.pk}",
            made,
            received,
            [("amber", received)],
            received + dt.timedelta(hours=30),
        )
        data.decide(hub, enquiry, "A", "s17", received + dt.timedelta(hours=30))
        data.ask(
            enquiry,
            police,
            received,
            received + dt.timedelta(hours=24),
            received + dt.timedelta(hours=2),
        )
        data.notification(police, received, "record_only")


# --- The SQL pieces ---------------------------------------------------------------------------


def test_percentiles_interpolate_per_group_and_ignore_nulls():
    from mash.reporting import performance_sql as sql

    values = [("a", 1), ("a", 4), ("a", 2), ("a", 3), ("b", 7), ("b", None), ("c", None)]
    source = " UNION ALL ".join("SELECT %s AS g, %s AS v" for _ in values)
    params = [x for pair in values for x in pair]
    if connection.vendor == "postgresql":
        source = source.replace("%s AS v", "CAST(%s AS double precision) AS v")
    found = {
        r["g"]: r
        for r in sql.grouped_stats(
            (source, params),
            groups=("g",),
            aggregates={"n": "COUNT(*)"},
            values=("v",),
            fractions=(0.5, 0.9),
        )
    }
    # a: 1 2 3 4: median 2.5; 90th at 0.9 x 3 = 2.7 places in: 3 + 0.7 x 1 = 3.7.
    assert found["a"]["n"] == 4
    assert found["a"]["percentiles"]["v"] == {0.5: 2.5, 0.9: approx(3.7)}
    # b: one value (the null is left out); c: none at all.
    assert found["b"]["percentiles"]["v"] == {0.5: 7.0, 0.9: 7.0}
    assert found["b"]["n"] == 2
    assert found["c"]["percentiles"]["v"] == {0.5: None, 0.9: None}


def test_the_working_calendar_in_sql_agrees_with_the_clock():
    """Random starts and ends over a year with bank holidays and both clock changes: the SQL
    condition "end is by the deadline" says what clock.deadline says, for each clock."""
    import random

    from mash.core import clock
    from mash.reporting import performance_sql as sql

    rng = random.Random(2025)
    calendar = clock.WorkingCalendar(closures=frozenset({dt.date(2025, 12, 29)}))
    first, last = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    durations = [
        clock.Duration(1, "working_days"),
        clock.Duration(4, "working_hours"),
        clock.Duration(2, "working_days"),
        clock.Duration(24, "clock_hours"),
    ]
    cases = []
    for _ in range(400):
        start = dt.datetime(2025, 1, 2, tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randrange(350 * 24 * 60)
        )
        duration = rng.choice(durations)
        due = clock.deadline(start, duration, calendar)
        # Ends near the deadline (either side, or exactly on it) and anywhere after the start.
        end = rng.choice(
            [
                due,
                due + dt.timedelta(minutes=rng.randrange(-90, 90)),
                start + dt.timedelta(hours=rng.randrange(0, 100)),
            ]
        )
        end = min(max(end, start), dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC))
        cases.append((start, end, duration, end <= due))
    with_sql, table = sql.calendar_table(calendar, first, last)
    unions, params = [], []
    for index, (start, end, _duration, _) in enumerate(cases):
        unions.append("SELECT %s AS i, %s AS s, %s AS e, %s AS sd, %s AS ed")
        params += [
            index,
            int(start.timestamp()),
            int(end.timestamp()),
            sql.day_number(clock.localtime(start).date()),
            sql.day_number(clock.localtime(end).date()),
        ]
    conditions = " ".join(
        f"WHEN b.i = {index} AND {sql.within_sql(duration, calendar)} THEN 1"
        for index, (_, _, duration, _) in enumerate(cases)
    )
    # Numbers and constants only.
    statement = (
        f"SELECT b.i, CASE {conditions} ELSE 0 END FROM ({' UNION ALL '.join(unions)}) b "  # noqa: S608
        f"LEFT JOIN {table} cs ON cs.d = b.sd LEFT JOIN {table} ce ON ce.d = b.ed ORDER BY b.i"
    )
    if with_sql:
        statement = f"WITH {with_sql} {statement}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = [bool(within) for _, within in cursor.fetchall()]
    expected = [within for *_, within in cases]
    assert found == expected
    assert 50 < sum(expected) < 350  # both answers well represented


def test_a_moments_london_day_and_week_in_sql(make):
    """Around both clock changes of 2025 and midnights in winter and summer."""
    from mash.contacts.models import Contact
    from mash.core import clock
    from mash.reporting import performance_sql as sql

    user = make.hub_manager()
    instants = [
        dt.datetime(2025, 3, 30, 0, 59, 59, tzinfo=dt.UTC),  # 00:59:59 GMT, Sunday
        dt.datetime(2025, 3, 30, 1, 0, tzinfo=dt.UTC),  # 02:00 BST
        dt.datetime(2025, 3, 30, 22, 59, tzinfo=dt.UTC),  # 23:59 BST, Sunday
        dt.datetime(2025, 3, 30, 23, 0, tzinfo=dt.UTC),  # 00:00 BST, Monday 31st
        dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC),  # 00:30 BST on 1 July
        dt.datetime(2025, 10, 25, 23, 30, tzinfo=dt.UTC),  # 00:30 BST on Sunday 26th
        dt.datetime(2025, 10, 26, 0, 59, tzinfo=dt.UTC),  # 01:59 BST
        dt.datetime(2025, 10, 26, 1, 0, tzinfo=dt.UTC),  # 01:00 GMT again
        dt.datetime(2025, 10, 26, 23, 59, tzinfo=dt.UTC),  # 23:59 GMT, Sunday
        dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),
    ]
    for moment in instants:
        Contact.objects.create(received_at=moment, created_by=user)
    summer = sql.summer_time(dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    assert summer[0] == (
        dt.datetime(2025, 3, 30, 1, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 10, 26, 1, 0, tzinfo=dt.UTC),
    )
    found = Contact.objects.annotate(
        d=sql.local_day("received_at", summer),
        w=sql.local_week("received_at", dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
    ).order_by("received_at")
    for contact in found:
        assert contact.received_at is not None
        london = clock.localtime(contact.received_at).date()
        assert sql.day_of(contact.d) == london, contact.received_at
        monday = london - dt.timedelta(days=london.weekday())
        assert sql.day_of(contact.w * 7) == monday, contact.received_at
