from django.db import migrations

import qms.db


class Migration(migrations.Migration):
    dependencies = [("qms", "0002_roles")]

    operations = [
        qms.db.MakeAppendOnly("qms_historicaldepartment"),
        qms.db.MakeAppendOnly("qms_historicaluser"),
        qms.db.MakeAppendOnly("qms_historicaluser_groups"),
        qms.db.MakeAppendOnly("qms_signature"),
        qms.db.MakeAppendOnly("qms_transition"),
        qms.db.MakeAppendOnly("qms_securityevent"),
    ]
