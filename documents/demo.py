"""Demo data: a document register of about twenty SOPs, policies, work instructions and forms in
every state, with short real contents. Built through the services, so every revision has its
transitions, signatures and history. Idempotent: documents are keyed by title."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from documents import services
from documents.models import Document, DocumentType
from qms.demo import DEMO_PASSWORD
from qms.models import Department
from qms.versioning import save_versioned

SOP, POL, WI, FRM, SPEC = (DocumentType.SOP, DocumentType.POLICY, DocumentType.WORK_INSTRUCTION, DocumentType.FORM,
                           DocumentType.SPECIFICATION)


def text(purpose: str, steps: list[str], records: str = "") -> str:
    lines = ["1. Purpose", purpose, "", "2. Procedure"]
    lines += [f"2.{number} {step}" for number, step in enumerate(steps, start=1)]
    if records:
        lines += ["", "3. Records", records]
    return "\n".join(lines) + "\n"


# (type, title, department, plan, revisions' texts). Plans:
#   effective            released (each extra text is one more released revision)
#   effective+review     released, with the next revision in review
#   effective+draft      released, next revision rejected once and back in draft
#   approved             approved, effective in a week
#   in_review / draft    first revision not released yet
#   obsolete             released and then withdrawn
#   due / overdue        released, periodic review due soon / overdue
DOCUMENTS = [
    (POL, "Quality policy", "Quality", "effective", [
        "Acme Medical Devices designs and makes infusion accessories that are safe and work as intended.\n\n"
        "We commit to:\n- meet customer, ISO 13485 and regulatory requirements;\n- keep our quality management "
        "system effective and improve it;\n- set measurable quality objectives each year and review them at "
        "management review;\n- train every person for the work they do.\n\nApproved by the managing director.\n",
    ]),
    (SOP, "Control of documents", "Quality", "effective", [
        text("Make sure only current, approved procedures are used.",
             ["The author drafts the revision in the QMS.", "Named reviewers record their review.",
              "Approvers sign electronically.", "The revision becomes effective on its date; the previous one is superseded."]),
        text("Make sure only current, approved procedures are used, and that staff are trained before use.",
             ["The author drafts the revision in the QMS with a change summary.", "Named reviewers record their review.",
              "Approvers sign electronically with the meaning 'Approved'.",
              "The revision becomes effective on its date; the previous one is superseded automatically.",
              "Training on the new revision is assigned to every affected role."],
             "Versions, reviews, signatures and history are kept in the QMS for the life of the product plus two years."),
    ]),
    (SOP, "Control of records", "Quality", "effective", [
        text("Define how quality records are kept legible, identifiable and retrievable.",
             ["Records are created in the QMS or scanned into it within 2 working days.",
              "Retention: life of the device plus 2 years, at least 5 years.", "Records are never deleted; corrections keep the original visible."]),
    ]),
    (SOP, "Complaint handling", "Customer Service", "effective", [
        text("Receive, record and investigate customer complaints.",
             ["Log every complaint the day it is received.", "Acknowledge within 1 working day.",
              "Decide on investigation and reportability.", "Close only after the customer has been answered."]),
        text("Receive, record and investigate customer complaints within the SLA.",
             ["Log every complaint the day it is received, with product and lot.", "Acknowledge within 1 working day.",
              "Decide on investigation and reportability; record the reason if no investigation.",
              "Open a CAPA for recurring or high-severity complaints.", "Close only after the customer has been answered and surveyed."],
             "Complaint files in the QMS."),
    ]),
    (SOP, "Corrective and preventive action", "Quality", "effective+review", [
        text("Eliminate the causes of nonconformities and stop them recurring.",
             ["Describe the problem.", "Find the root cause (5 Whys or fishbone).", "Plan and do the actions.",
              "Verify effectiveness after 90 days."]),
        text("Eliminate the causes of nonconformities and stop them recurring.",
             ["Describe the problem with data.", "Find the root cause (5 Whys or fishbone) with the process owner.",
              "Plan actions with owners and due dates.", "Verify effectiveness after 90 days against defined criteria.",
              "Close with the Quality Manager's signature."]),
    ]),
    (SOP, "Internal audits", "Quality", "overdue", [
        text("Check that the QMS conforms and is effective.",
             ["Plan audits yearly, covering every process.", "Auditors do not audit their own work.",
              "Report findings within 5 working days.", "Follow up findings through CAPA."]),
    ]),
    (SOP, "Management review", "Quality", "due", [
        text("Review the QMS at planned intervals.",
             ["Hold the review twice a year.", "Inputs: audits, complaints, CAPA, KPIs, training, supplier performance.",
              "Record decisions and actions with owners."]),
    ]),
    (SOP, "Training and competence", "Quality", "effective", [
        text("Make sure people are competent for their work.",
             ["Managers define training needs per role.", "Training on a new document revision is due within 14 days.",
              "Employees sign 'Read and understood'.", "Overdue training is escalated to the manager."]),
    ]),
    (SOP, "Supplier evaluation", "Engineering", "approved", [
        text("Select and monitor suppliers by their ability to meet requirements.",
             ["Critical suppliers complete the questionnaire FRM-005.", "Score delivery and quality quarterly.",
              "Suppliers scoring below 70 % get a corrective action request."]),
    ]),
    (SOP, "Incoming inspection", "Production", "draft", [
        text("Inspect purchased parts before use.",
             ["Check the delivery note against the order.", "Sample according to the AQL table.",
              "Quarantine failed lots with a red label."]),
    ]),
    (SOP, "Nonconforming product", "Production", "in_review", [
        text("Stop nonconforming product from being used or delivered.",
             ["Label and segregate the product.", "Record it in the QMS.", "Decide: rework, scrap or use as is (with approval)."]),
    ]),
    (SOP, "Calibration of measuring equipment", "Engineering", "effective+draft", [
        text("Keep measuring equipment accurate.",
             ["Calibrate each instrument at its interval.", "Label with the next due date.", "Assess past results when out of tolerance."]),
        text("Keep measuring equipment accurate and traceable.",
             ["Calibrate each instrument at its interval against traceable standards.", "Label with the next due date.",
              "Assess product measured since the last good calibration when out of tolerance."]),
    ]),
    (SOP, "Customer feedback by telephone", "Customer Service", "obsolete", [
        text("Collect customer feedback by telephone.", ["Call 10 customers a month.", "Record answers on paper."]),
    ]),
    (WI, "Torque screwdriver verification", "Production", "effective", [
        text("Verify torque screwdrivers at the start of each shift.",
             ["Set the tester to 0.6 Nm.", "Take 3 readings.", "All within ±5 %: use; otherwise tag out and tell the supervisor."]),
    ]),
    (WI, "Label printing", "Production", "draft", [
        text("Print device labels correctly.", ["Load the approved label template.", "Check lot and expiry on the first label.", "Count labels in and out."]),
    ]),
    (FRM, "Complaint intake form", "Customer Service", "effective", [
        "Complaint intake form\n\nDate received:\nCustomer / organisation:\nContact e-mail:\nProduct code and lot:\n"
        "Description of the problem:\nPatient involvement (yes/no):\nSample available (yes/no):\nReceived by:\n",
    ]),
    (FRM, "CAPA request form", "Quality", "effective", [
        "CAPA request\n\nRaised by:\nSource (complaint, audit, nonconformity):\nProblem statement:\nRisk (low/medium/high):\n"
        "Proposed owner:\nQuality Manager decision:\n",
    ]),
    (FRM, "Training record", "Quality", "effective", [
        "Training record\n\nEmployee:\nDocument and revision:\nTrainer:\nDate:\nMethod (read, instructed, practical):\n"
        "Signature 'Read and understood':\n",
    ]),
    (FRM, "Calibration log", "Engineering", "in_review", [
        "Calibration log\n\nInstrument ID:\nLocation:\nInterval (months):\nDate calibrated:\nResult (pass/fail):\n"
        "Standard used and certificate:\nNext due:\nCalibrated by:\n",
    ]),
    (SPEC, "Packaging specification, infusion sets", "Engineering", "effective", [
        text("Define the packaging of infusion sets.",
             ["Primary pouch: medical grade paper/film, peel opening.", "10 pouches per shipper carton.",
              "Carton label: product code, lot, expiry, quantity, UDI barcode."]),
    ]),
]


def seed(log=print) -> None:
    User = get_user_model()
    staff, staff2, manager = (User.objects.get(username=name) for name in ("staff", "staff2", "manager"))
    departments = {d.name: d for d in Department.objects.all()}
    today = timezone.localdate()
    created = 0
    for doc_type, title, department, plan, texts in DOCUMENTS:
        if Document.objects.filter(title=title).exists():
            continue
        owner = manager if doc_type == POL else staff
        document = services.document_create(
            actor=staff, title=title, doc_type=doc_type, owner=owner, department=departments.get(department),
            review_period_months=12 if doc_type == SOP else 24, content_text=texts[0], effective_from=today,
        )
        _build(document, plan, texts, staff=staff, staff2=staff2, manager=manager, today=today)
        created += 1
    log(f"  {created} documents created ({Document.objects.count()} in the register)")


def _release(version, *, staff, staff2, manager, reviewers=True):
    services.version_transition(version, "submit", actor=staff,
                                data={"reviewers": [staff2.pk] if reviewers else [], "approvers": [manager.pk]},
                                reason="Ready for review.")
    if reviewers:
        services.version_transition(version, "review", actor=staff2, reason="Checked against current practice; clear.")
    services.version_transition(version, "approve", actor=manager, password=DEMO_PASSWORD, meaning="Approved",
                                reason="Approved for use.")


def _next_revision(document, text_body, *, staff, today, summary):
    return services.version_create(document=document, actor=staff, content_text=text_body, effective_from=today,
                                   change_summary=summary)


def _build(document, plan, texts, *, staff, staff2, manager, today):
    people = {"staff": staff, "staff2": staff2, "manager": manager}
    version = document.versions.get()
    if plan == "draft":
        return
    if plan == "in_review":
        services.version_transition(version, "submit", actor=staff, data={"reviewers": [staff2.pk], "approvers": [manager.pk]},
                                    reason="Ready for review.")
        return
    if plan == "approved":
        services.version_update(version, actor=staff, reason="Effective date set", expected_version=version.version,
                                effective_from=today + datetime.timedelta(days=7))
        _release(version, **people)
        return
    _release(version, **people)
    services.version_transition(version, "make_effective", actor=staff, reason="Released on approval.")
    for text_body in texts[1:-1] if plan == "effective+review" else texts[1:] if plan == "effective" else []:
        version = _next_revision(document, text_body, staff=staff, today=today, summary="Clarified the steps and added the records section.")
        _release(version, **people)
        services.version_transition(version, "make_effective", actor=staff, reason="Released on approval.")
    if plan == "effective+review":
        version = _next_revision(document, texts[-1], staff=staff, today=today + datetime.timedelta(days=14),
                                 summary="Added data to the problem statement and effectiveness criteria.")
        services.version_transition(version, "submit", actor=staff, data={"reviewers": [staff2.pk], "approvers": [manager.pk]},
                                    reason="Please review the new effectiveness criteria.")
    elif plan == "effective+draft":
        version = _next_revision(document, texts[-1], staff=staff, today=today, summary="Traceable standards required.")
        services.version_transition(version, "submit", actor=staff, data={"approvers": [manager.pk]}, reason="Ready.")
        services.version_transition(version, "reject", actor=manager, reason="Name the calibration laboratory's accreditation.")
    elif plan == "obsolete":
        services.version_transition(version, "obsolete", actor=manager, password=DEMO_PASSWORD, meaning="Withdrawn from use",
                                    reason="Replaced by the online survey in the complaints process.")
    elif plan in ("due", "overdue"):
        document.refresh_from_db()
        document.next_review_due = today + datetime.timedelta(days=12 if plan == "due" else -20)
        save_versioned(document, actor=manager, reason="Demo data: review date from the paper register", fields=["next_review_due"],
                       action="update")
