import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """The history of KPI targets, alerts, units shipped and management reviews cannot be changed
    or removed (21 CFR 11.10(e); docs/architecture.md rule 2)."""

    dependencies = [("metrics", "0001_initial")]

    operations = [
        qms.db.MakeAppendOnly("metrics_historicalkpitarget"),
        qms.db.MakeAppendOnly("metrics_historicalkpitarget_owners"),
        qms.db.MakeAppendOnly("metrics_historicalkpialert"),
        qms.db.MakeAppendOnly("metrics_historicalshippedunits"),
        qms.db.MakeAppendOnly("metrics_historicalmanagementreview"),
        qms.db.MakeAppendOnly("metrics_historicalreviewitem"),
    ]
