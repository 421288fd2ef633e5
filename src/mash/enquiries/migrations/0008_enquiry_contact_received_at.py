"""Enquiry.contact_received_at: a copy of the contact's received_at (see the model), filled
for the enquiries there are, then required."""

from django.db import migrations, models


def fill(apps, schema_editor):
    # One statement on either database; a contact without its time (none should be) gives
    # the enquiry's opening moment, as open_enquiry does.
    schema_editor.execute(
        "UPDATE enquiries_enquiry SET contact_received_at = COALESCE("
        "(SELECT c.received_at FROM contacts_contact c WHERE c.id = enquiries_enquiry.contact_id),"
        " opened_at)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("enquiries", "0007_report_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="enquiry",
            name="contact_received_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="enquiry",
            name="contact_received_at",
            field=models.DateTimeField(),
        ),
    ]
