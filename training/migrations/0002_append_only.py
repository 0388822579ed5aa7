"""The training app's audit tables refuse UPDATE and DELETE (docs/architecture.md rule 2)."""

from django.db import migrations

import qms.db


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [
        qms.db.MakeAppendOnly("training_historicaltrainingrequirement"),
        qms.db.MakeAppendOnly("training_historicalrevisionimpact"),
        qms.db.MakeAppendOnly("training_historicalreleasegate"),
        qms.db.MakeAppendOnly("training_historicaltrainingassignment"),
        qms.db.MakeAppendOnly("training_historicaltrainingsession"),
        qms.db.MakeAppendOnly("training_trainingnotice"),
        qms.db.MakeAppendOnly("training_sessionattendee"),
    ]
