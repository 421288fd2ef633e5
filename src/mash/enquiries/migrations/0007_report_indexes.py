"""Indexes for the performance dashboard (docs/decisions/0020).

Agency requests, on PostgreSQL: 0006's index on requested_at gives way to one by agency
and time, of the requests that were required only (the figures never count the others),
carrying the columns the figures read (INCLUDE): each agency's requests come from the
index alone, in order. SQLite keeps 0006's plain index on requested_at: it has no INCLUDE,
and its dashboard queries read by time across agencies. Written as SQL, not in the
model's Meta, for those differences.

Decisions: a child's referral decisions by date, for the re-referral check.
"""

from django.db import migrations, models

OLD = "enquiries_request_requested_idx"
NEW = "enquiries_request_agency_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX {OLD}")
    schema_editor.execute(
        f"CREATE INDEX {NEW} ON enquiries_agencyrequest (agency_id, requested_at) "
        "INCLUDE (answered_at, deadline_at) WHERE status <> 'not_required'"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX {NEW}")
    schema_editor.execute(
        f"CREATE INDEX {OLD} ON enquiries_agencyrequest (requested_at) "
        "INCLUDE (agency_id, status, answered_at, deadline_at)"
    )


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0006_agencyrequest_report_index")]

    operations = [
        migrations.RunPython(create, drop),
        migrations.AddIndex(
            model_name="decision",
            index=models.Index(
                condition=models.Q(("outcome__in", ("s47", "s17"))),
                fields=["child", "decided_at", "id"],
                name="enquiries_referral_idx",
            ),
        ),
    ]
