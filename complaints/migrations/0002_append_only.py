from django.db import migrations

import qms.db


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]

    operations = [
        qms.db.MakeAppendOnly("complaints_historicalcustomer"),
        qms.db.MakeAppendOnly("complaints_historicalproduct"),
        qms.db.MakeAppendOnly("complaints_historicalcategory"),
        qms.db.MakeAppendOnly("complaints_historicalbusinesscalendar"),
        qms.db.MakeAppendOnly("complaints_historicalholiday"),
        qms.db.MakeAppendOnly("complaints_historicalslapolicy"),
        qms.db.MakeAppendOnly("complaints_historicalcomplaint"),
        qms.db.MakeAppendOnly("complaints_attachment"),
        qms.db.MakeAppendOnly("complaints_communication"),
        qms.db.MakeAppendOnly("complaints_escalation"),
    ]
