import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """The history of sampling rules is append-only."""

    dependencies = [("service_quality", "0006_sampling")]

    operations = [qms.db.MakeAppendOnly("service_quality_historicalsamplingrule")]
