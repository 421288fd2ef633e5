"""An index for the performance dashboard's agency figures (docs/decisions/0020).

On PostgreSQL the index carries the columns the figures read (INCLUDE), so they come from
the index alone; SQLite has no INCLUDE and gets the plain index on requested_at. Written
as SQL here, not in the model's Meta: Django would warn on SQLite about the INCLUDE.
"""

from django.db import migrations

NAME = "enquiries_request_requested_idx"


def create(apps, schema_editor):
    include = ""
    if schema_editor.connection.vendor == "postgresql":
        include = " INCLUDE (agency_id, status, answered_at, deadline_at)"
    schema_editor.execute(f"CREATE INDEX {NAME} ON enquiries_agencyrequest (requested_at){include}")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {NAME}")


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0005_enquiry_closed_as_enquiry_responsible_la_and_more")]

    operations = [migrations.RunPython(create, drop)]
