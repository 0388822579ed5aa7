from django.db import migrations

import qms.db


class Migration(migrations.Migration):
    dependencies = [("kernel_app", "0001_initial")]

    operations = [qms.db.MakeAppendOnly("kernel_app_historicalspecimen")]
