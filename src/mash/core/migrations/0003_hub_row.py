"""The hub's settings row exists from the first migration, so nothing races to create it."""

from django.db import migrations


def create_hub(apps, schema_editor):
    Hub = apps.get_model("core", "Hub")
    Hub.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    operations = [migrations.RunPython(create_hub, migrations.RunPython.noop)]
