"""The attachments, communications, escalations and surveys written before they kept history
get one creation row each (chained like every history row), dated when they were written, by
the person who wrote them (the named system user for escalations and surveys), so the
complaint's whole file is in the audit trail from the start (issue 15)."""

from django.conf import settings
from django.db import migrations

REASON = "History started for an existing record (issue 15): its state when its history began"


def backfill(apps, schema_editor):
    from qms.history import chain_link_rows

    db = schema_editor.connection.alias
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    system = None
    for model_name, when, author in (
        ("Attachment", "uploaded_at", "uploaded_by_id"),
        ("Communication", "at", "author_id"),
        ("Escalation", "at", None),
        ("Survey", "sent_at", None),
    ):
        live = apps.get_model("complaints", model_name)
        historical = apps.get_model("complaints", f"Historical{model_name}")
        tracked = [
            f.attname
            for f in historical._meta.concrete_fields
            if f.attname in {g.attname for g in live._meta.concrete_fields}
        ]
        done = set(historical.objects.using(db).values_list("id", flat=True))
        rows = []
        for record in live.objects.using(db).exclude(pk__in=done).order_by(when, "pk").iterator():
            if author:
                user_id = getattr(record, author)
            else:
                if system is None:
                    system, _ = User.objects.using(db).get_or_create(
                        username=settings.QMS_SYSTEM_USERNAME,
                        defaults={"first_name": "QMS", "last_name": "System", "is_active": False},
                    )
                user_id = system.pk
            rows.append(
                historical(
                    history_date=getattr(record, when),
                    history_type="+",
                    history_user_id=user_id,
                    history_change_reason=REASON,
                    history_action="",
                    **{name: getattr(record, name) for name in tracked},
                )
            )
        if rows:
            chain_link_rows(rows, using=db)
            historical.objects.using(db).bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0012_complaint_file_history"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
