"""Demo CAPAs (idempotent, keyed by title): one in every state, several raised from the demo
complaints, with 5 Whys, fishbones, actions with evidence, effectiveness checks and a signed
closure. Everything goes through the services, so history, transitions and signatures are real.
Runs after the complaints and documents demo data (qms seed_demo order)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from capa import services
from capa.models import Capa, CapaAction, EffectivenessCheck
from complaints.demo import SERIAL_LIST
from qms.demo import DEMO_PASSWORD
from qms.history import set_history

OCCLUSION = {
    "whys": [
        ("Why did the occlusion alarm not sound?", "The downstream pressure never crossed the alarm threshold."),
        ("Why did the pressure reading stay low?", "The pressure sensor under-read by about 40%."),
        ("Why did the sensor under-read?", "The sensor membrane was thicker than specified in lot PS-2291."),
        ("Why was the thicker membrane not caught?", "Incoming inspection checks the sensor's dimensions, not its response."),
        ("Why is the response not tested?", "The inspection plan was written before the supplier changed the membrane process."),
    ],
    "fishbone": {
        "people": ["Inspector not told of supplier change"],
        "method": ["No functional test at goods-in", "Supplier change not notified"],
        "machine": ["Sensor calibration drift"],
        "material": ["Thicker membrane in lot PS-2291", "New membrane process"],
        "measurement": ["Threshold tuned to old sensor"],
        "environment": ["Busy ward masks alarm", "Cold storage before use"],
    },
    "conclusion": "The supplier changed the membrane process without notice; our incoming inspection tests sensor dimensions only, so under-reading sensors reached production.",
}

GLUCOSE = {
    "whys": [
        ("Why does the meter read high?", "The strip calibration code did not match the strips in use."),
        ("Why did the code not match?", "Lot 3-117 strips shipped with the previous lot's code chip."),
        ("Why was the wrong chip packed?", "Two lots were packed on the same line without line clearance."),
    ],
    "fishbone": {
        "people": ["Packer worked two lots in one shift"],
        "method": ["No line clearance between lots"],
        "material": ["Code chips in an unlabelled tray"],
        "measurement": ["Final check samples 1 box per 500"],
    },
    "conclusion": "Missing line clearance between strip lots let code chips of one lot be packed with the next.",
}

GUIDEWIRE = {
    "whys": [
        ("Why was the guidewire missing?", "The kit was packed from a short-filled component tray."),
        ("Why was the tray short?", "The tray count is visual and the tray holds 49 or 50 wires."),
    ],
    "fishbone": {
        "method": ["Visual tray count"],
        "machine": ["No check-weigher on kit line"],
        "people": ["New packer on night shift"],
    },
    "conclusion": "Kits are not check-weighed, so a kit without its guidewire passes the visual inspection.",
}

SEAL = {
    "whys": [
        ("Why was the peel seal open?", "The seal temperature was 12 °C below the validated window."),
        ("Why was the temperature low?", "The heater band was replaced and not re-verified."),
    ],
    "fishbone": {
        "machine": ["Heater band replaced", "Thermocouple loose"],
        "method": ["No re-validation after maintenance"],
        "measurement": ["Seal strength tested weekly only"],
    },
    "conclusion": "Maintenance replaced the sealer's heater band without re-verifying the sealing temperature.",
}


def seed(log=print) -> None:
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["staff", "staff2", "manager"])}
    if len(users) < 3:
        log("  demo users missing; run the qms seeder first")
        return
    staff, staff2, manager = users["staff"], users["staff2"], users["manager"]
    today = timezone.localdate()

    def complaint(title):
        from complaints.models import Complaint

        return Complaint.objects.filter(title=title).order_by("id").first()

    def document(title):
        from documents.models import Document

        return Document.objects.filter(title=title).select_related("effective_version").first()

    def create(title, *, complaints=(), **fields):
        existing = Capa.objects.filter(title=title).first()
        if existing is not None:
            return None
        linked = [c for c in complaints if c is not None]
        if linked:
            fields["source"] = "complaint"
        return services.capa_create(actor=staff, title=title, complaints=linked, **fields)

    def analyse(capa, data, actor=staff):
        services.root_cause_save(
            capa,
            actor=actor,
            whys=[{"why": w, "because": b} for w, b in data["whys"]],
            fishbone=data["fishbone"],
            conclusion=data["conclusion"],
            reason="Root cause workshop",
        )

    def backdate(action, days):
        """Demo only: an action planned weeks ago is now overdue (time has passed)."""
        action.due_date = today - timedelta(days=days)
        set_history(action, user=staff, reason="Demo data: planned earlier", action="update")
        action.save(update_fields=["due_date"])

    # 1. closed: from two occlusion complaints, the whole path, signed by the manager
    capa = create(
        "Occlusion alarm does not sound on Volumat 200 pumps",
        complaints=[complaint("Occlusion alarm silent during infusion"), complaint("Occlusion alarm delayed on second pump")],
        problem_statement="Two Volumat 200 pumps at Northwick General did not raise the downstream occlusion alarm in time (silent for ~10 min, and 4 min late). Risk of under-infusion. Pumps in scope: " + SERIAL_LIST,
        severity=5,
        occurrence=3,
        containment_action="Pumps with sensors from lot PS-2291 quarantined; loan pumps sent; customers informed by field safety notice.",
        containment_by=manager,
        containment_at=timezone.now() - timedelta(days=9),
        owner=staff,
        due_date=today + timedelta(days=20),
    )
    if capa is not None:
        services.capa_transition(capa, "start_investigation", actor=staff, reason="Complaints confirmed on two pumps")
        analyse(capa, OCCLUSION)
        services.capa_transition(capa, "plan_actions", actor=staff)
        a1 = services.action_create(capa, actor=staff, action_type="fix", description="Replace the pressure sensors of the 37 pumps built with lot PS-2291.", owner=staff2, due_date=today + timedelta(days=5))
        a2 = services.action_create(capa, actor=staff, action_type="process_change", description="Add a functional pressure-response test to incoming inspection of sensors.", owner=staff, due_date=today + timedelta(days=10))
        a3 = services.action_create(capa, actor=staff, action_type="other", description="Require suppliers to notify process changes (quality agreement amendment).", owner=manager, due_date=today + timedelta(days=15))
        services.check_create(capa, actor=staff, criteria="No occlusion-alarm complaint on Volumat 200 for 90 days, and 100% of incoming sensor lots pass the response test.", verifier=manager)
        services.capa_transition(capa, "implement", actor=staff)
        services.action_transition(a1, "complete", actor=staff2, data={"evidence": "37 pumps reworked, serial numbers in service report SR-4471; all pass the occlusion test."})
        services.action_transition(a2, "complete", actor=staff, data={"evidence": "Inspection plan IP-SENS rev 4 released; first three lots tested."})
        services.action_transition(a3, "complete", actor=manager, data={"evidence": "Quality agreement QA-SUP-12 amended and signed by the supplier."})
        services.capa_transition(capa, "verify", actor=staff, reason="All actions done")
        check = capa.checks.get()
        # Closed before its 90-day window ended: an early verification, signed and justified.
        services.check_record_result(
            check,
            "mark_effective_early",
            actor=manager,
            reason="All 37 affected pumps reworked and re-tested, sensor lot PS-2291 scrapped, and the new incoming test rejects the faulty lot; the notified body asked for closure before its audit.",
            evidence="No occlusion complaint since rework; 6 sensor lots tested, all in tolerance.",
            password=DEMO_PASSWORD,
        )
        services.capa_transition(capa, "close", actor=manager, password=DEMO_PASSWORD, reason="Verified effective; actions complete")
        log(f"  {capa.reference} closed (from complaints, signed)")

    # 2. effectiveness check due: from the glucose complaint
    capa = create(
        "Glucose meter reads high with strip lot 3-117",
        complaints=[complaint("Glucose meter reads high")],
        problem_statement="GlucoCheck 3 readings about 2 mmol/L above the laboratory reference at City Diabetes Clinic with strip lot 3-117.",
        severity=4,
        occurrence=3,
        containment_action="Strip lot 3-117 blocked in the warehouse; customers asked to use lot 3-118.",
        containment_by=staff2,
        containment_at=timezone.now() - timedelta(days=5),
        owner=staff2,
        due_date=today + timedelta(days=30),
    )
    if capa is not None:
        services.capa_transition(capa, "start_investigation", actor=staff2)
        analyse(capa, GLUCOSE, actor=staff2)
        services.capa_transition(capa, "plan_actions", actor=staff2)
        a1 = services.action_create(capa, actor=staff2, action_type="process_change", description="Introduce line clearance with a signed checklist between strip lots.", owner=staff2, due_date=today + timedelta(days=3))
        a2 = services.action_create(capa, actor=staff2, action_type="retraining", description="Retrain the packing team on line clearance (trainer-led, attendance sheet).", owner=staff2, due_date=today + timedelta(days=7), role=_group("Employee"))
        services.check_create(capa, actor=staff2, criteria="No calibration-code mix-up in 3 months; every lot change has a signed clearance checklist.", verifier=staff, due_date=today)
        services.capa_transition(capa, "implement", actor=staff2)
        services.action_transition(a1, "complete", actor=staff2, data={"evidence": "Checklist FRM-LC-01 in use on both packing lines since Monday."})
        services.action_transition(a2, "complete", actor=staff2, data={"evidence": "12 of 12 packers trained; attendance sheet attached."})
        services.capa_transition(capa, "verify", actor=staff2)
        log(f"  {capa.reference} effectiveness check (due today)")

    # 3. implementation, one action overdue, one waiting for a document revision
    capa = create(
        "Central venous catheter kits shipped without guidewire",
        complaints=[complaint("Catheter kit missing guidewire")],
        problem_statement="A CVC-14 kit of lot CVC-2611 opened in theatre had no guidewire; the procedure was delayed.",
        severity=4,
        occurrence=2,
        containment_action="Lot CVC-2611 on hold; 100% re-inspection of kits in stock.",
        containment_by=staff,
        containment_at=timezone.now() - timedelta(days=3),
        owner=staff,
        due_date=today + timedelta(days=45),
    )
    if capa is not None:
        services.capa_transition(capa, "start_investigation", actor=staff)
        analyse(capa, GUIDEWIRE)
        services.capa_transition(capa, "plan_actions", actor=staff)
        a1 = services.action_create(capa, actor=staff, action_type="fix", description="Re-inspect all CVC-14 kits in stock and at customers.", owner=staff, due_date=today + timedelta(days=2))
        a2 = services.action_create(capa, actor=staff, action_type="process_change", description="Install a check-weigher on the kit line.", owner=staff2, due_date=today + timedelta(days=1))
        doc = document("Calibration of measuring equipment")
        if doc is not None and doc.effective_version_id:
            services.action_create(capa, actor=staff, action_type="document_revision", description="Add the check-weigher to the calibration SOP.", owner=staff, due_date=today + timedelta(days=20), document=doc)
        training_doc = document("Nonconforming product") or document("Control of records")
        if training_doc is not None and training_doc.effective_version_id:
            services.action_create(capa, actor=staff, action_type="retraining", description="Retrain production on segregating suspect kits.", owner=staff, due_date=today + timedelta(days=25), role=_group("Employee"), document=training_doc)
        services.check_create(capa, actor=staff, criteria="No missing-component complaint on CVC-14 for 90 days.", verifier=manager)
        services.capa_transition(capa, "implement", actor=staff)
        services.action_transition(a1, "complete", actor=staff, data={"evidence": "1,240 kits re-inspected; 2 more kits without guidewire found and scrapped."})
        services.action_transition(a2, "start", actor=staff2)
        backdate(CapaAction.objects.get(pk=a2.pk), 6)
        log(f"  {capa.reference} implementation (one action overdue)")

    # 4. action planning: from the open peel seal complaint
    capa = create(
        "Sterile dressing packs with open peel seal",
        complaints=[complaint("Dressing pack seal open")],
        problem_statement="Two STD-50 packs in lot STD-0917 had an open peel seal; sterility cannot be assured.",
        severity=5,
        occurrence=2,
        containment_action="Lot STD-0917 recalled from three customers.",
        containment_by=manager,
        containment_at=timezone.now() - timedelta(days=2),
        owner=staff,
        due_date=today + timedelta(days=30),
    )
    if capa is not None:
        services.capa_transition(capa, "start_investigation", actor=staff)
        analyse(capa, SEAL)
        services.capa_transition(capa, "plan_actions", actor=staff)
        services.action_create(capa, actor=staff, action_type="process_change", description="Re-verify sealing temperature after any sealer maintenance.", owner=staff, due_date=today + timedelta(days=14))
        services.action_create(capa, actor=staff, action_type="fix", description="Re-validate the sealer with the new heater band.", owner=staff2, due_date=today + timedelta(days=7))
        log(f"  {capa.reference} action planning")

    # 5. reopened: the first fix did not hold (check not effective)
    capa = create(
        "Test strips delivered close to expiry",
        complaints=[complaint("Strips out of date on arrival")],
        problem_statement="Strips delivered with 3 weeks of shelf life left; customers expect at least 6 months.",
        severity=2,
        occurrence=4,
        owner=staff2,
        due_date=today + timedelta(days=40),
    )
    if capa is not None:
        services.capa_transition(capa, "start_investigation", actor=staff2)
        services.root_cause_save(
            capa,
            actor=staff2,
            whys=[
                {"why": "Why were short-dated strips shipped?", "because": "The warehouse picks by location, not by expiry."},
                {"why": "Why by location?", "because": "The first-expiry-first-out rule was not set for strips in the WMS."},
            ],
            fishbone={"method": ["FEFO not configured"], "people": ["Pickers unaware of minimum shelf life"]},
            conclusion="The warehouse system does not enforce first-expiry-first-out for strips.",
        )
        services.capa_transition(capa, "plan_actions", actor=staff2)
        a1 = services.action_create(capa, actor=staff2, action_type="other", description="Remind pickers of the 6-month minimum shelf life.", owner=staff2, due_date=today + timedelta(days=2))
        services.check_create(capa, actor=staff2, criteria="No short-dated delivery for 60 days.", verifier=staff)
        services.capa_transition(capa, "implement", actor=staff2)
        services.action_transition(a1, "complete", actor=staff2, data={"evidence": "Briefing held with all pickers."})
        services.capa_transition(capa, "verify", actor=staff2)
        check = EffectivenessCheck.objects.get(capa=capa)
        services.check_record_result(check, "mark_not_effective", actor=staff, reason="Another short-dated delivery two weeks later", evidence="Delivery note DN-77120: strips with 5 weeks left.")
        services.action_create(capa, actor=staff2, action_type="process_change", description="Configure FEFO picking with a 6-month minimum for strips in the WMS.", owner=staff2, due_date=today + timedelta(days=12))
        log(f"  {capa.reference} reopened after a failed check")

    # 6. investigation: internal audit finding, fishbone in progress
    capa = create(
        "Training records incomplete for night shift",
        source="internal_audit",
        kind="corrective",
        problem_statement="Internal audit IA-2026-04 found 6 of 20 night-shift operators without a training record on the current assembly SOP.",
        severity=3,
        occurrence=3,
        owner=staff,
        due_date=today + timedelta(days=25),
    )
    if capa is not None:
        services.capa_transition(capa, "start_investigation", actor=staff, reason="Audit finding accepted")
        services.root_cause_save(
            capa,
            actor=staff,
            whys=[{"why": "Why are records missing?", "because": "Night-shift sessions were recorded on paper and not entered."}],
            fishbone={"people": ["Supervisor rotates weekly"], "method": ["Paper sign-in sheets"], "environment": ["No trainer on nights"]},
            conclusion="",
        )
        log(f"  {capa.reference} investigation")

    # 7. open: preventive, from a KPI trend alert
    capa = create(
        "First-response time trending up",
        source="kpi_trend",
        kind="preventive",
        problem_statement="Median first-response time rose from 3 to 7 business hours over six weeks; the SLA is 8 hours.",
        severity=2,
        occurrence=3,
        owner=manager,
        due_date=today + timedelta(days=21),
    )
    if capa is not None:
        log(f"  {capa.reference} open (preventive)")

    # 8. cancelled, signed
    capa = create(
        "Label printer misprints lot numbers",
        source="nonconformance",
        problem_statement="NC-0412: lot numbers printed faintly on 30 labels.",
        severity=2,
        occurrence=2,
        owner=staff,
        due_date=today + timedelta(days=30),
    )
    if capa is not None:
        services.capa_transition(capa, "cancel", actor=manager, password=DEMO_PASSWORD, reason="Handled as a single nonconformance (NC-0412): ribbon batch defect, no systemic cause.")
        log(f"  {capa.reference} cancelled (signed)")

    # What the beat sweep would have done by now: the overdue action escalated, the check due
    # today reminded (idempotent, like the sweep itself).
    escalated, reminded = services.escalate_overdue_actions(), services.remind_due_checks()
    if escalated or reminded:
        log(f"  sweep: {escalated} action escalation(s), {reminded} check reminder(s)")


def _group(name):
    from django.contrib.auth.models import Group

    return Group.objects.filter(name=name).first()
