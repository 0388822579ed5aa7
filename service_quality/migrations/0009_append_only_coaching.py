import qms.db
from django.db import migrations


class Migration(migrations.Migration):
    """The history of coaching records is append-only."""

    dependencies = [("service_quality", "0008_coaching")]

    operations = [qms.db.MakeAppendOnly("service_quality_historicalcoachingrecord")]
