"""Default configuration a new installation starts from: one business calendar, an SLA policy
per severity and the usual complaint categories. Quality managers change them afterwards (with
history); this migration only creates what is missing."""

from decimal import Decimal

from django.db import migrations

DEFAULT_STEPS = [
    {"level": 1, "percent": 75, "notify": ["assignee"]},
    {"level": 2, "percent": 100, "notify": ["assignee", "quality_managers"]},
    {"level": 3, "percent": 150, "notify": ["head_of_quality"]},
]

# severity: first response hours, resolution hours, business time?
POLICIES = {
    "low": ("16", "120", True),
    "medium": ("8", "64", True),
    "high": ("4", "24", True),
    "critical": ("2", "24", False),  # safety issues: round the clock, in elapsed hours
}

CATEGORIES = [
    ("Product defect", "The product does not work as specified."),
    ("Packaging / labelling", "Damaged packaging, wrong or unreadable labels, missing IFU."),
    ("Delivery", "Late, incomplete or wrong delivery."),
    ("Documentation", "Certificates, manuals or records missing or wrong."),
    ("Service", "Behaviour or competence of our staff, response times."),
    ("Adverse event", "A patient or user was or could have been harmed."),
    ("Billing", "Invoices, prices and credit notes."),
]


def create_defaults(apps, schema_editor):
    BusinessCalendar = apps.get_model("complaints", "BusinessCalendar")
    SlaPolicy = apps.get_model("complaints", "SlaPolicy")
    Category = apps.get_model("complaints", "Category")
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Head office",
        defaults={
            "time_zone": "Europe/London",
            "working_days": [0, 1, 2, 3, 4],
            "working_periods": [["09:00", "12:30"], ["13:30", "17:30"]],
        },
    )
    for severity, (first, resolution, business) in POLICIES.items():
        SlaPolicy.objects.get_or_create(
            severity=severity,
            defaults={
                "first_response_hours": Decimal(first),
                "resolution_hours": Decimal(resolution),
                "counts_business_time": business,
                "calendar": calendar,
                "escalation_steps": DEFAULT_STEPS,
            },
        )
    for name, description in CATEGORIES:
        Category.objects.get_or_create(name=name, defaults={"description": description})


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_append_only")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
