import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """History of scorecards, criteria, evaluations and scores cannot be changed or removed
    (21 CFR 11.10(e); docs/architecture.md rule 2)."""

    dependencies = [("service_quality", "0001_initial")]

    operations = [
        qms.db.MakeAppendOnly("service_quality_historicalscorecard"),
        qms.db.MakeAppendOnly("service_quality_historicalscorecardsection"),
        qms.db.MakeAppendOnly("service_quality_historicalcriterion"),
        qms.db.MakeAppendOnly("service_quality_historicalevaluation"),
        qms.db.MakeAppendOnly("service_quality_historicalscore"),
    ]
