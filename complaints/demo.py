"""Demo complaints (idempotent): every state of the workflow, some breached and escalated,
a recurring defect, communication logs and answered surveys. Everything goes through the
services, so history, transitions, signatures and escalations are real."""

from datetime import timedelta
from importlib import import_module

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from complaints import services
from complaints.models import Category, Customer, FailureMode, Holiday, Product, SlaPolicy
from qms.demo import DEMO_PASSWORD
from qms.models import OutboxMessage
from qms.services import system_user

MARKER_EMAIL = "purchasing@northwick-hospital.example"

PRODUCTS = [
    ("INF-200", "Volumat 200 infusion pump"),
    ("CVC-14", "Central venous catheter kit, 14 G"),
    ("GLU-3", "GlucoCheck 3 blood glucose meter"),
    ("STD-50", "Sterile dressing pack, 50 pcs"),
    ("SVC-FIELD", "Field service visit"),
]

CUSTOMERS = [
    ("Dr Helen Marsh", "Northwick General Hospital", MARKER_EMAIL, "+44 20 7946 0011"),
    ("Tom Becker", "Riverside Care Home", "t.becker@riverside-care.example", "+44 161 496 0342"),
    ("Priya Natarajan", "City Diabetes Clinic", "priya.n@citydiabetes.example", "+44 121 496 0777"),
    ("Marco Rossi", "", "marco.rossi@mail.example", "+44 7700 900123"),
    ("Sister Anne Kelly", "St Brigid's Hospice", "anne.kelly@stbrigids.example", "+44 28 9649 6021"),
    ("James O'Neill", "Lakeside Medical Centre", "procurement@lakeside-mc.example", "+44 1632 960555"),
]

# Real text is not polite: a pasted link and a serial-number list without a space, carried by
# the first complaint so that every page showing it is tried with them (issue 18 item 2).
PASTED_URL = (
    "https://service.northwick-hospital.example/biomed/tickets/INC-2026-118734/attachments/"
    "pump-event-log-export?device=INF-200&serial=200-11873&from=2026-03-01T00:00:00Z&to=2026-03-02T23:59:59Z"
    "&fields=alarm_state,occlusion_pressure_downstream,occlusion_pressure_upstream,battery_level,rate_ml_h"
    "&format=csv&signature=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)
SERIAL_LIST = ",".join(f"200-{n}" for n in range(11873, 11913))

# (title, description, customer index, product code, category, severity, channel, hours ago, final state, extras)
COMPLAINTS = [
    ("Occlusion alarm silent during infusion", "Nurse noticed the line was occluded for ~10 minutes; the downstream occlusion alarm did not sound. Patient unharmed. Pump SN 200-11873 quarantined. Event log: " + PASTED_URL + " Pumps of the same lot: " + SERIAL_LIST, 0, "INF-200", "Product defect", "high", "phone", 220, "closed", {"csat": 4, "ces": 5, "nps": 8, "comment": "Thorough investigation and a loan pump the same day."}),
    ("Occlusion alarm delayed on second pump", "Same ward, different pump: the occlusion alarm came after 4 minutes instead of under 1 minute.", 0, "INF-200", "Product defect", "high", "email", 30, "investigating", {}),
    ("Pump alarm volume too low", "Alarm barely audible on a busy ward; maximum volume set.", 5, "INF-200", "Product defect", "medium", "email", 2, "acknowledged", {}),
    ("Catheter kit missing guidewire", "One kit of lot CVC-2611 opened in theatre had no guidewire. Procedure delayed 15 minutes.", 0, "CVC-14", "Packaging / labelling", "critical", "phone", 96, "new", {}),
    ("Wrong quantity delivered", "Ordered 20 boxes of dressing packs, received 12. Delivery note says 20.", 1, "STD-50", "Delivery", "low", "email", 1, "resolved", {}),
    ("Glucose meter reads high", "Meter shows readings ~2 mmol/L above the lab reference on three patients.", 2, "GLU-3", "Product defect", "high", "web_form", 150, "investigating", {}),
    ("Strips out of date on arrival", "Test strips delivered with only 3 weeks left before expiry.", 2, "GLU-3", "Delivery", "medium", "email", 3, "closed", {"csat": 5, "ces": 6, "nps": 9, "comment": "Replaced within two days, thank you."}),
    ("Engineer arrived without parts", "Field engineer came for the annual service without the service kit; second visit needed.", 4, "SVC-FIELD", "Service", "low", "phone", 2, "closed", {"csat": 3, "ces": 4, "nps": 6, "comment": "Second visit was fine but we lost a morning."}),
    ("Invoice charged twice", "Invoice 88213 and 88214 cover the same order.", 5, None, "Billing", "low", "email", 1, "closed", {"csat": 5, "ces": 7, "nps": 10, "comment": ""}),
    ("Dressing pack seal open", "Two packs in lot STD-0917 had an open peel seal; sterility cannot be assured.", 4, "STD-50", "Packaging / labelling", "high", "in_person", 48, "awaiting_customer", {}),
    ("Meter display cracked", "Display cracked after a drop from bed height; customer expects better robustness.", 3, "GLU-3", "Product defect", "low", "social_media", 4, "rejected", {}),
    ("IFU missing from catheter kit", "No instructions for use in the box; users rely on the website.", 5, "CVC-14", "Documentation", "medium", "email", 2, "awaiting_customer", {}),
    ("Patient bruising after catheter insertion", "Possible link to the catheter tip; clinician asks for an assessment.", 0, "CVC-14", "Adverse event", "critical", "phone", 1, "acknowledged", {}),
    ("Rude reply from the help line", "Customer felt dismissed when calling about a delivery.", 3, None, "Service", "low", "phone", 0.5, "new", {}),
    ("Pump battery drains overnight", "Fully charged pump is flat by morning when on standby.", 1, "INF-200", "Product defect", "medium", "web_form", 0.2, "new", {}),
    ("Certificate of conformity missing", "CoC not included with lot CVC-2611; goods-in blocked.", 5, "CVC-14", "Documentation", "medium", "email", 1.5, "resolved", {}),
]

# The failure mode each demo complaint is triaged to (the default list of migration 0011): the
# recurrence key is product + failure mode, so only the second silent occlusion alarm repeats
# an earlier complaint, as it really does; the cracked display, rejected as misuse, counts not.
FAILURE_MODES = {
    "Occlusion alarm silent during infusion": "Alarm silent or delayed",
    "Occlusion alarm delayed on second pump": "Alarm silent or delayed",
    "Pump alarm volume too low": "Alarm too quiet",
    "Catheter kit missing guidewire": "Component missing",
    "Wrong quantity delivered": "Wrong or short quantity",
    "Glucose meter reads high": "Reading inaccurate",
    "Strips out of date on arrival": "Short shelf life on arrival",
    "Engineer arrived without parts": "Engineer without parts",
    "Invoice charged twice": "Duplicate invoice",
    "Dressing pack seal open": "Sterile seal open",
    "Meter display cracked": "Display cracked or housing damaged",
    "IFU missing from catheter kit": "Manual or IFU missing or wrong",
    "Patient bruising after catheter insertion": "Patient or user injury",
    "Rude reply from the help line": "Staff behaviour",
    "Pump battery drains overnight": "Battery drains",
    "Certificate of conformity missing": "Certificate missing or wrong",
}

COMMUNICATIONS = {
    "Occlusion alarm silent during infusion": [
        ("inbound", "phone", "Ward manager reported the silent alarm; pump quarantined, loan pump requested. Log: " + PASTED_URL),
        ("outbound", "email", "Confirmed receipt, reference sent, loan pump dispatched by courier."),
        ("outbound", "email", "Sent the investigation summary: faulty pressure sensor in one lot; field action for 37 pumps."),
    ],
    "Glucose meter reads high": [
        ("inbound", "web_form", "Three readings compared with the lab: +2.1, +1.8, +2.3 mmol/L."),
        ("outbound", "email", "Asked for the meter and strip lot numbers and the control solution results."),
    ],
    "Dressing pack seal open": [("outbound", "phone", "Asked the customer to return the two packs for analysis; waiting for the parcel.")],
}


def seed(log=print) -> None:
    User = get_user_model()
    if Customer.objects.filter(email=MARKER_EMAIL).exists():
        log("  complaints demo data present already")
        return
    staff = User.objects.get(username="staff")
    staff2 = User.objects.get(username="staff2")
    manager = User.objects.get(username="manager")
    actor = system_user()

    if not SlaPolicy.objects.exists():
        # The defaults come with migration 0003; re-create them if the table was emptied.
        import_module("complaints.migrations.0003_default_sla").create_defaults(django_apps, None)
    policy = SlaPolicy.objects.select_related("calendar").first()
    if policy is not None:
        year = timezone.localdate().year
        for month, day, name in ((12, 25, "Christmas Day"), (12, 26, "Boxing Day"), (1, 1, "New Year's Day")):
            for y in (year, year + 1):
                Holiday.objects.get_or_create(calendar=policy.calendar, date=timezone.datetime(y, month, day).date(), defaults={"name": name})

    products = {}
    for code, name in PRODUCTS:
        products[code] = Product.objects.filter(code=code).first() or services.product_create(actor=staff, code=code, name=name)
    customers = [
        services.customer_create(actor=staff, name=name, organisation=org, email=email, phone=phone)
        for name, org, email, phone in CUSTOMERS
    ]
    categories = {c.name: c for c in Category.objects.all()}
    for name in sorted({row[4] for row in COMPLAINTS} - set(categories)):
        categories[name] = services.category_create(actor=manager, name=name)
    if not FailureMode.objects.exists():
        # The defaults come with migration 0011; re-create them if the table was emptied.
        import_module("complaints.migrations.0011_default_failure_modes").create_defaults(django_apps, None)
    failure_modes = {(m.category.name, m.name): m for m in FailureMode.objects.select_related("category")}
    now = timezone.now()
    handlers = [staff, staff2]
    for index, (title, description, customer_index, code, category, severity, channel, hours_ago, state, survey) in enumerate(COMPLAINTS):
        assignee = handlers[index % 2] if state != "new" or hours_ago > 50 else None
        complaint = services.complaint_create(
            actor=handlers[index % 2],
            title=title,
            description=description,
            customer=customers[customer_index],
            product=products.get(code),
            category=categories.get(category),
            failure_mode=failure_modes.get((category, FAILURE_MODES.get(title, ""))),
            severity=severity,
            channel=channel,
            lot_number=(SERIAL_LIST[:80] if index == 0 else f"LOT-{2600 + index}") if code else "",
            udi=f"(01)0506{index:04d}1234(17)271231" if code and code != "SVC-FIELD" else "",
            assignee=assignee,
            received_at=now - timedelta(hours=hours_ago),
        )
        worker = assignee or handlers[index % 2]
        if index == 0:
            notes = (
                "Call notes, ward 4B, 09:40\nPump SN 200-11873, lot INF-2611. Occlusion alarm silent for ~10 min.\n"
                "Line clamped by mistake during repositioning; pump showed no alarm. Pump quarantined, tagged.\n"
            )
            services.attachment_add(
                complaint=complaint, actor=worker, uploaded_file=ContentFile(notes.encode(), name="call-notes.txt"),
                description="Notes from the customer's phone call",
            )
        for step, (direction, via, summary) in enumerate(COMMUNICATIONS.get(title, []), start=1):
            # Spread the messages over the life of the complaint, never into the future.
            at = min(complaint.received_at + timedelta(hours=hours_ago * step / 4), now)
            services.communication_add(complaint=complaint, actor=worker, direction=direction, channel=via, summary=summary, at=at)
        path = {
            "new": [],
            "acknowledged": ["acknowledge"],
            "investigating": ["acknowledge", "investigate"],
            "awaiting_customer": ["acknowledge", "investigate", "wait_for_customer"],
            "resolved": ["acknowledge", "investigate", "resolve"],
            "closed": ["acknowledge", "investigate", "resolve", "close"],
            "rejected": ["reject"],
        }[state]
        for action in path:
            data, password, who, reason = {}, None, worker, ""
            if action == "resolve":
                data["resolution"] = f"Root cause found and corrected; the customer received a replacement and an explanation ({complaint.reference})."
            if action == "close":
                who, password = manager, DEMO_PASSWORD
                data = {
                    "investigation_required": "yes" if severity in {"high", "critical"} else "no",
                    "no_investigation_reason": "" if severity in {"high", "critical"} else "Isolated logistics or service issue; no product nonconformity.",
                    "is_reportable": "no",
                    "reportability_reason": "No death or serious injury, and a recurrence could not cause one (MDR/vigilance criteria not met).",
                }
            if action == "reject":
                reason = "Damage from misuse (drop), not a product nonconformity; customer informed."
            services.complaint_transition(complaint, action, actor=who, reason=reason, password=password, data=data)
        token = survey_token(complaint) if survey else None
        if token:
            services.survey_answer(token=token, **survey)
        log(f"  {complaint.reference} {state:<18} {title}")
    escalated = services.escalate_due_complaints()
    log(f"  escalation sweep: {escalated} steps taken by {actor.username}")


def survey_token(complaint) -> str | None:
    """The one-time token of the survey invitation a closed complaint's customer was sent (the
    demo answers as the customer would, from the link in the e-mail)."""
    message = OutboxMessage.objects.filter(to_email=complaint.customer.email, body__contains=complaint.reference).order_by("-id").first()
    if message and "/complaints/survey/" in message.body:
        return message.body.split("/complaints/survey/")[1].split("/")[0]
    return None
