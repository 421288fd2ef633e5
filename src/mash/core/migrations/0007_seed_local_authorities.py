"""Loads the English local authorities and their DfE codes (see core/local_authorities.py)."""

from django.db import migrations

from mash.core import local_authorities


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    local_authorities.sync(apps.get_model("core", "LocalAuthority"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_localauthority_hub_postcode_areas"),
    ]

    # Reversing leaves the rows: contacts and enquiries may already name them.
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
