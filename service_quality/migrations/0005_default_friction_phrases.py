from django.db import migrations


def seed_friction_phrases(apps, schema_editor):
    from service_quality.auto import DEFAULT_FRICTION_PHRASES

    FrictionPhrase = apps.get_model("service_quality", "FrictionPhrase")
    FrictionPhrase.objects.bulk_create(
        [FrictionPhrase(phrase=phrase) for phrase in DEFAULT_FRICTION_PHRASES], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    """The friction list starts with the default phrases (service_quality.auto); it is managed
    from then on, so reversing leaves it as it is."""

    dependencies = [("service_quality", "0004_append_only_auto")]

    operations = [migrations.RunPython(seed_friction_phrases, migrations.RunPython.noop)]
