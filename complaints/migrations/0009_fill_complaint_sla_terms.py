"""Give every complaint stored before its SLA terms were kept the terms of its policy as they
are at migration time: the best record of what was in force (decision 0022). One UPDATE per
policy; no history rows, as no complaint's deadlines change here."""

from django.db import migrations


def fill(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    for policy in SlaPolicy.objects.select_related("calendar"):
        terms = {
            "policy_id": policy.pk,
            "policy_version": policy.version,
            "severity": policy.severity,
            "first_response_hours": str(policy.first_response_hours),
            "resolution_hours": str(policy.resolution_hours),
            "counts_business_time": policy.counts_business_time,
            "calendar_id": policy.calendar_id,
            "calendar_name": policy.calendar.name,
            "escalation_steps": list(policy.escalation_steps or []),
        }
        Complaint.objects.filter(sla_policy=policy, sla_terms={}).update(sla_terms=terms)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0008_complaint_sla_terms")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
