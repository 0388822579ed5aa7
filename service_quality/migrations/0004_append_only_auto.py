import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """The histories of automatic scores and of the friction list are append-only."""

    dependencies = [("service_quality", "0003_automatic_evaluation")]

    operations = [
        qms.db.MakeAppendOnly("service_quality_historicalautoscore"),
        qms.db.MakeAppendOnly("service_quality_historicalfrictionphrase"),
    ]
