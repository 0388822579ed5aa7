"""Whether a verification run re-hashed every chain from its start or resumed from the last
anchors (decision 0050). Every run before this was full, hence the default."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("qms", "0013_trail_search_signatures"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditverification",
            name="kind",
            field=models.CharField(
                choices=[("full", "Full"), ("incremental", "Incremental")],
                default="full",
                max_length=20,
            ),
        ),
    ]
