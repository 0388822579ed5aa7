"""Demo data for training: a few more people with job functions and managers, requirements per
role and job function on the demo document register, and a realistic mix of training: most
of it signed, some due, some overdue (and escalated), one waiver, a trainer-led session, and a
release gate on SOPs with the approved "Supplier evaluation" waiting for training.

Built through the services (signatures, transitions and history exist as in real use).
Idempotent: people by username, requirements by (role or job function, document); the mix is
decided per assignment from a stable hash, so a second run changes nothing."""

import datetime
import hashlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from documents import services as document_services
from documents.models import Document
from qms import roles as qms_roles
from qms.demo import DEMO_PASSWORD
from qms.history import set_history
from qms.models import Department
from qms.services import system_user, user_set_roles
from training import services
from training.models import (
    AssignmentStatus,
    ReleaseGate,
    TrainingAssignment,
    TrainingRequirement,
    TrainingSession,
)

PEOPLE = [
    # username, first, last, role, department, job function, manager's username
    ("omar", "Omar", "Haddad", qms_roles.EMPLOYEE, "Production", "Assembly technician", "employee2"),
    ("grace", "Grace", "Kim", qms_roles.EMPLOYEE, "Production", "Assembly technician", "employee2"),
    ("tomas", "Tomás", "Novak", qms_roles.EMPLOYEE, "Production", "Packaging operator", "employee2"),
    ("priya", "Priya", "Shah", qms_roles.EMPLOYEE, "Engineering", "Calibration technician", "manager"),
    ("jonas", "Jonas", "Berg", qms_roles.EMPLOYEE, "Customer Service", "Complaint handler", "staff2"),
    ("amara", "Amara", "Okafor", qms_roles.STAFF, "Quality", "Quality engineer", "manager"),
]

# (role name or "job:<function>", document title, due days, only major revisions)
REQUIREMENTS = [
    (qms_roles.EMPLOYEE, "Quality policy", 30, True),
    (qms_roles.EMPLOYEE, "Training and competence", 30, True),
    ("job:Assembly technician", "Torque screwdriver verification", 14, False),
    ("job:Line supervisor", "Torque screwdriver verification", 14, False),
    ("job:Line supervisor", "Packaging specification, infusion sets", 30, False),
    ("job:Packaging operator", "Packaging specification, infusion sets", 21, False),
    ("job:Calibration technician", "Calibration of measuring equipment", 21, False),
    ("job:Complaint handler", "Complaint handling", 14, False),
    ("job:Complaint handler", "Complaint intake form", 14, False),
    (qms_roles.STAFF, "Control of documents", 30, False),
    (qms_roles.STAFF, "Control of records", 30, False),
    (qms_roles.STAFF, "Complaint handling", 21, False),
    (qms_roles.STAFF, "Corrective and preventive action", 30, False),
    (qms_roles.STAFF, "Supplier evaluation", 30, False),
    (qms_roles.MANAGER, "Quality policy", 30, False),
    (qms_roles.MANAGER, "Management review", 30, False),
    (qms_roles.MANAGER, "Corrective and preventive action", 30, False),
]


def _bucket(assignment) -> int:
    key = f"{assignment.user.username}:{assignment.document_version.document.number}"
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100


def seed(log=print) -> None:
    User = get_user_model()
    if not Document.objects.exists():
        log("  no documents: skipped training demo data")
        return
    admin, manager, staff = (User.objects.get(username=name) for name in ("admin", "manager", "staff"))
    departments = {d.name: d for d in Department.objects.all()}

    for username, first, last, role, department, job, boss in PEOPLE:
        if User.objects.filter(username=username).exists():
            continue
        user = User(username=username, first_name=first, last_name=last, email=f"{username}@example.com",
                    department=departments.get(department), job_function=job, manager=User.objects.get(username=boss))
        user.set_password(DEMO_PASSWORD)
        set_history(user, user=system_user(), reason="Demo data", action="create")
        user.save()
        user_set_roles(user, role_names=[role], actor=admin, reason="Demo data: joined the company")
        log(f"  created user {username} ({role}, {job})")

    created = 0
    for who, title, due_days, major_only in REQUIREMENTS:
        document = Document.objects.filter(title=title).first()
        if document is None:
            continue
        existing = TrainingRequirement.objects.filter(document=document, is_active=True)
        if who.startswith("job:"):
            role, job = None, who[4:]
            existing = existing.filter(role__isnull=True, job_function__iexact=job)
        else:
            role, job = Group.objects.get(name=who), ""
            existing = existing.filter(role=role)
        if existing.exists():
            continue
        requirement = services.requirement_create(
            actor=staff, document=document, role=role, job_function=job, due_days=due_days, only_major_revisions=major_only,
            reason="Demo data: competence matrix agreed at management review",
        )
        services.assign_for_requirement(requirement=requirement)
        created += 1
    assigned = services.assign_missing()
    log(f"  {created} training requirements, {assigned} assignments created")

    if not ReleaseGate.objects.filter(doc_type="sop").exists():
        services.release_gate_set(actor=manager, doc_type="sop", required_percent=80, is_active=True,
                                  reason="Demo data: SOP changes are trained before they are used")
    services.release_gate_prepare()
    _new_revision(log, manager=manager, staff=staff)
    _mix(log, manager=manager, staff=staff)
    services.overdue_sweep()


def _new_revision(log, *, manager, staff) -> None:
    """A new revision of the torque screwdriver verification became effective today: its
    trainees owe it, their open training on the previous revision is superseded, their signed
    records stay."""
    torque = Document.objects.filter(title="Torque screwdriver verification").select_related("effective_version").first()
    summary = "Readings recorded in the equipment log; a failed tester is tagged out at once (CAPA after a torque complaint)."
    if torque is None or torque.effective_version is None or torque.versions.filter(change_summary=summary).exists():
        return
    text = torque.effective_version.content_text.rstrip() + (
        "\n\n3. Records\nWrite the three readings in the equipment log. A screwdriver outside ±5 % gets a red "
        "tag at once and is not used until recalibrated.\n"
    )
    version = document_services.version_create(
        document=torque, actor=staff, content_text=text, effective_from=timezone.localdate(),
        change_summary=summary,
    )
    document_services.version_transition(version, "submit", actor=staff, data={"approvers": [manager.pk], "reviewers": []}, reason="Ready.")
    document_services.version_transition(version, "approve", actor=manager, password=DEMO_PASSWORD, meaning="Approved", reason="Agreed.")
    document_services.version_transition(version, "make_effective", actor=staff, reason="Released on approval.")
    result = services.assign_for_version(document_version_id=version.pk)
    log(f"  {version} effective: {result.created} assigned, {result.superseded} open rev 1 assignments superseded")


def _mix(log, *, manager, staff) -> None:
    """Sign most training, leave some due, make some overdue, waive one, record a session."""
    today = timezone.localdate()
    actor = system_user()
    open_ = (
        TrainingAssignment.objects.filter(status=AssignmentStatus.ASSIGNED)
        .select_related("user", "document_version__document")
        .order_by("pk")
    )
    waivable = (
        TrainingAssignment.objects.filter(status=AssignmentStatus.ASSIGNED, user__username="priya", document__title="Quality policy").first()
    )
    if waivable is not None:
        services.assignment_transition(waivable, "waive", actor=manager, password=DEMO_PASSWORD,
                                       reason="Trained on the policy at the supplier's site last month; certificate on file.")
    signed = overdue = 0
    for assignment in open_:
        if not assignment.user.has_usable_password() or assignment.user.username == "system":
            continue
        bucket = _bucket(assignment)
        if bucket < 58:
            services.assignment_transition(assignment, "complete", actor=assignment.user, password=DEMO_PASSWORD)
            signed += 1
        elif bucket < 72 and assignment.due_date >= today and assignment.document_version.status == "effective":
            assignment.assigned_at = timezone.now() - datetime.timedelta(days=40 + bucket % 10)
            assignment.due_date = today - datetime.timedelta(days=3 + bucket % 12)
            set_history(assignment, user=actor, reason="Demo data: assigned before the QMS went live", action="update")
            assignment.save(update_fields=["assigned_at", "due_date"])
            overdue += 1
    torque = Document.objects.filter(title="Torque screwdriver verification").select_related("effective_version").first()
    if torque and torque.effective_version and not TrainingSession.objects.filter(document_version=torque.effective_version).exists():
        attendees = list(
            TrainingAssignment.objects.filter(document_version=torque.effective_version, status=AssignmentStatus.ASSIGNED)
            .values_list("user_id", flat=True)[:3]
        )
        if attendees:
            session = services.session_record(
                actor=staff, document_version=torque.effective_version, held_on=today,
                attendees=attendees, password=DEMO_PASSWORD, duration_minutes=45, location="Line 2, assembly bench",
                notes="Hands-on verification with the reference torque analyser.",
            )
            first = session.attendees.select_related("user", "assignment", "session").first()
            services.attendance_sign(attendee=first, actor=first.user, password=DEMO_PASSWORD)
    log(f"  training: {signed} signed, {overdue} made overdue, 1 waiver, 1 session")
