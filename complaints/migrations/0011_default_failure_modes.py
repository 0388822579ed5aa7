"""The failure modes a new installation starts from, under the default categories (recurrence
is matched on them, decision 0023). Quality managers maintain the list afterwards; this only
creates what is missing."""

from django.db import migrations

FAILURE_MODES = {
    "Product defect": [
        "Alarm silent or delayed",
        "Alarm too quiet",
        "Battery drains",
        "Reading inaccurate",
        "Display cracked or housing damaged",
        "Does not start or stops",
        "Leak or occlusion",
    ],
    "Packaging / labelling": [
        "Sterile seal open",
        "Component missing",
        "Label wrong or unreadable",
        "Instructions for use missing",
    ],
    "Delivery": [
        "Late delivery",
        "Wrong or short quantity",
        "Short shelf life on arrival",
        "Damaged in transit",
    ],
    "Documentation": ["Certificate missing or wrong", "Manual or IFU missing or wrong"],
    "Service": ["Visit late or missed", "Engineer without parts", "Staff behaviour"],
    "Adverse event": ["Patient or user injury", "Suspected use error"],
    "Billing": ["Duplicate invoice", "Wrong price"],
}


def create_defaults(apps, schema_editor):
    Category = apps.get_model("complaints", "Category")
    FailureMode = apps.get_model("complaints", "FailureMode")
    for category_name, names in FAILURE_MODES.items():
        category = Category.objects.filter(name=category_name).first()
        if category is None:
            continue
        for name in names:
            FailureMode.objects.get_or_create(category=category, name=name)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0010_failure_modes_and_recurrence_key")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
