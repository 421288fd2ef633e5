"""Phonetic name keys for people already in the index (matching blocks on them)."""

from django.db import migrations


def fill(apps, schema_editor):
    from mash.people.matching import name_key

    Person = apps.get_model("people", "Person")
    batch = []
    for person in (
        Person.objects.filter(family_key="").only("pk", "given_name", "family_name").iterator()
    ):
        person.given_key = name_key(person.given_name)
        person.family_key = name_key(person.family_name)
        batch.append(person)
        if len(batch) >= 1000:
            Person.objects.bulk_update(batch, ["given_key", "family_key"])
            batch = []
    Person.objects.bulk_update(batch, ["given_key", "family_key"])


class Migration(migrations.Migration):
    dependencies = [("people", "0002_personalias_person_family_key_person_given_key_and_more")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
