import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """The histories of calibration sessions and their scores are append-only."""

    dependencies = [("service_quality", "0010_calibration")]

    operations = [
        qms.db.MakeAppendOnly("service_quality_historicalcalibrationsession"),
        qms.db.MakeAppendOnly("service_quality_historicalcalibrationscore"),
    ]
