"""Reminder moments for requests already running (75% of their clock)."""

from django.db import migrations


def fill(apps, schema_editor):
    from mash.core.clock import DEFAULT_CALENDAR, Duration
    from mash.enquiries.deadlines import reminder_time

    AgencyRequest = apps.get_model("enquiries", "AgencyRequest")
    batch = []
    for request in AgencyRequest.objects.filter(reminder_at__isnull=True).iterator():
        duration = Duration(request.duration_amount, request.duration_unit)
        request.reminder_at = reminder_time(
            request.clock_started_at, request.deadline_at, duration, DEFAULT_CALENDAR
        )
        batch.append(request)
        if len(batch) >= 1000:
            AgencyRequest.objects.bulk_update(batch, ["reminder_at"])
            batch = []
    AgencyRequest.objects.bulk_update(batch, ["reminder_at"])


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0003_agencyrequest_reminder_at")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
