import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """History, escalations and evidence files of CAPAs cannot be changed or removed
    (21 CFR 11.10(e); docs/architecture.md rule 2)."""

    dependencies = [("capa", "0001_initial")]

    operations = [
        qms.db.MakeAppendOnly("capa_historicalcapa"),
        qms.db.MakeAppendOnly("capa_historicalcapa_complaints"),
        qms.db.MakeAppendOnly("capa_historicalrootcauseanalysis"),
        qms.db.MakeAppendOnly("capa_historicalcapaaction"),
        qms.db.MakeAppendOnly("capa_historicalactionevidence"),
        qms.db.MakeAppendOnly("capa_historicaleffectivenesscheck"),
        qms.db.MakeAppendOnly("capa_escalation"),
        qms.db.MakeAppendOnly("capa_actionevidence"),
    ]
