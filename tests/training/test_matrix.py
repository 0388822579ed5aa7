"""The training matrix: the state of each cell, filters, and a constant number of queries
(50 users x 30 documents costs what 5 x 3 costs)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, DocumentVersion
from qms import roles as qms_roles
from qms.models import Department
from tests.conftest import PASSWORD, make_user
from tests.training.conftest import new_revision, release_version
from training import selectors, services
from training.models import RevisionImpact, TrainingAssignment, TrainingRequirement

pytestmark = pytest.mark.django_db


def states(matrix, username):
    row = next(r for r in matrix.rows if r.user.username == username)
    return {c.document.number: c.state for c in row.cells if c}


def test_cells_go_from_missing_to_due_overdue_current_and_superseded(sop, staff, manager, employee, employee_group):
    requirement = services.requirement_create(actor=staff, document=sop, role=employee_group, due_days=10)
    # Before the assignment task has run, the requirement shows as missing.
    assert states(selectors.training_matrix(), "employee") == {sop.number: "missing"}
    services.assign_for_requirement(requirement=requirement)
    assert states(selectors.training_matrix(), "employee") == {sop.number: "due"}
    later = timezone.localdate() + datetime.timedelta(days=11)
    assert states(selectors.training_matrix(today=later), "employee") == {sop.number: "overdue"}
    services.assignment_transition(TrainingAssignment.objects.get(user=employee), "complete", actor=employee, password=PASSWORD)
    assert states(selectors.training_matrix(), "employee") == {sop.number: "current"}
    # A new revision is effective but its assignments are not created yet: trained on an old revision.
    release_version(new_revision(sop, actor=staff), author=staff, approver=manager, run_task=False)
    assert states(selectors.training_matrix(), "employee") == {sop.number: "superseded"}
    services.assign_for_version(document_version_id=Document.objects.get(pk=sop.pk).effective_version_id)
    assert states(selectors.training_matrix(), "employee") == {sop.number: "due"}


def test_a_minor_revision_keeps_major_only_trainees_current(sop, staff, manager, employee, employee_group):
    services.requirement_create(actor=staff, document=sop, role=employee_group, only_major_revisions=True)
    services.assign_for_version(document_version_id=sop.effective_version_id)
    services.assignment_transition(TrainingAssignment.objects.get(user=employee), "complete", actor=employee, password=PASSWORD)
    rev2 = new_revision(sop, actor=staff)
    services.revision_impact_set(document_version=rev2, is_major=False, actor=staff, reason="Formatting")
    release_version(rev2, author=staff, approver=manager)
    matrix = selectors.training_matrix()
    assert states(matrix, "employee") == {sop.number: "current"}
    assert matrix.columns[0].revision == "2"


def test_waived_counts_as_current_and_filters_narrow_rows_and_columns(requirement, sop, staff, manager, employee, trainees):
    services.assignment_transition(TrainingAssignment.objects.get(user=trainees[0]), "waive", actor=manager, reason="Leaving", password=PASSWORD)
    matrix = selectors.training_matrix()
    assert states(matrix, "trainee0") == {sop.number: "current"}
    assert matrix.totals == {"current": 1, "due": 3, "overdue": 0, "missing": 0, "superseded": 0}
    assert matrix.compliance == 25
    production = Department.objects.create(name="Production")
    employee.department = production
    employee.save()
    assert [r.user.username for r in selectors.training_matrix(department_id=production.pk).rows] == ["employee"]
    quality = Group.objects.get(name=qms_roles.STAFF)
    assert selectors.training_matrix(role_id=quality.pk).rows == []
    assert selectors.training_matrix(document_id=sop.pk + 999).columns == []


# ---------------------------------------------------------------- query counts


def build(n_users, n_docs, author, users=None):
    """n_users employees x n_docs effective SOPs, each required for Employees, with a mix of
    completed, open and overdue assignments. Built with the ORM (fast); the services are
    covered by the other tests."""
    group = Group.objects.get(name=qms_roles.EMPLOYEE)
    department, _ = Department.objects.get_or_create(name="Production")
    users = users or [make_user(f"u{n_docs}_{i}", qms_roles.EMPLOYEE, department=department) for i in range(n_users)]
    today = timezone.localdate()
    for d in range(n_docs):
        document = Document.objects.create(number=f"T{n_docs}-{d:03d}", title=f"Procedure {d}", doc_type="sop", owner=author, created_by=author)
        version = DocumentVersion.objects.create(
            document=document, revision_index=1, revision="1", status="effective", effective_from=today, author=author
        )
        Document.objects.filter(pk=document.pk).update(effective_version=version)
        TrainingRequirement.objects.create(role=group, document=document, due_days=30, created_by=author)
        TrainingAssignment.objects.bulk_create(
            [
                TrainingAssignment(
                    user=user, document_version=version, document=document, source="version_effective",
                    due_date=today + datetime.timedelta(days=(i % 3) * 20 - 10),
                    status="completed" if i % 4 == 0 else "assigned",
                )
                for i, user in enumerate(users)
                if i % 5 != 4  # every fifth person is missing the assignment
            ]
        )
    return users


def count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_matrix_costs_a_constant_number_of_queries(staff):
    build(5, 3, staff)
    small = count_queries(lambda: selectors.training_matrix())
    build(50, 30, staff)
    matrix = None

    def big():
        nonlocal matrix
        matrix = selectors.training_matrix()

    large = count_queries(big)
    assert len(matrix.rows) == 55 and len(matrix.columns) == 33
    # Six queries, and a seventh for the older assignments of the cells with none to train on.
    assert small == large == 7, (small, large)
    # Every employee must train on all 33 SOPs; people of one build have no assignment on the
    # other build's SOPs, and every fifth person misses one on their own.
    assert sum(matrix.totals.values()) == 55 * 33
    assert matrix.totals["missing"] == 5 * 30 + 50 * 3 + 1 * 3 + 10 * 30


def test_the_matrix_page_and_exports_cost_a_constant_number_of_queries(staff, manager, client_for):
    c = client_for(manager)
    url = reverse("training:matrix")
    build(5, 3, staff)
    c.get(url)  # warm the session and content types
    counts_small = [count_queries(lambda q=q: c.get(url + q)) for q in ("", "?export=csv", "?export=xlsx")]
    build(50, 30, staff)
    counts_large = [count_queries(lambda q=q: c.get(url + q)) for q in ("", "?export=csv", "?export=xlsx")]
    assert counts_small == counts_large, (counts_small, counts_large)
    page = c.get(url).content.decode()
    assert page.count('class="mx-cell ') == 50 * 33  # the first page of 50 people
    assert c.get(url, {"page": 2}).content.decode().count('class="mx-cell ') == 5 * 33


def test_my_training_page_costs_a_constant_number_of_queries(staff, client_for):
    users = build(3, 2, staff)
    c = client_for(users[0])
    c.get(reverse("training:my"))
    small = count_queries(lambda: c.get(reverse("training:my")))
    build(3, 25, staff, users=users)
    assert TrainingAssignment.objects.filter(user=users[0]).count() > 20
    large = count_queries(lambda: c.get(reverse("training:my")))
    assert small == large, (small, large)


@pytest.mark.parametrize(
    "url",
    [
        "/training/assignments/",
        "/training/assignments/?overdue=true",
        "/training/requirements/",
        "/training/release-gates/",
        "/api/v1/training/assignments/?page_size=200",
        "/api/v1/training/requirements/?page_size=200",
    ],
)
def test_lists_cost_a_constant_number_of_queries(url, staff, manager, client_for):
    c = client_for(manager)
    build(5, 2, staff)  # with one overdue assignment, so no list is empty
    c.get(url)
    small = count_queries(lambda: c.get(url))
    build(20, 12, staff)
    large = count_queries(lambda: c.get(url))
    assert small == large, (url, small, large)


def test_the_version_training_page_costs_a_constant_number_of_queries(staff, manager, client_for):
    c = client_for(manager)
    build(3, 1, staff)
    version = DocumentVersion.objects.get(document__number="T1-000")
    url = reverse("training:version", args=[version.pk])
    c.get(url)
    small = count_queries(lambda: c.get(url))
    users = [make_user(f"extra{i}", qms_roles.EMPLOYEE) for i in range(15)]
    TrainingAssignment.objects.bulk_create(
        [TrainingAssignment(user=u, document_version=version, document=version.document, source="role_joined",
                            due_date=timezone.localdate()) for u in users]
    )
    large = count_queries(lambda: c.get(url))
    assert small == large, (small, large)


def test_per_document_compliance(requirement, sop, employee, trainees):
    services.assignment_transition(TrainingAssignment.objects.get(user=employee), "complete", actor=employee, password=PASSWORD)
    assert selectors.training_matrix().column_compliance == [25]


def test_only_major_revisions_count_from_the_newest_major_one(staff):
    """Revisions 1 and 2 are major, 3 is minor and effective. For "only major revisions", training
    on 2 is current and training on 1 only is an old revision; a job function that requires
    every revision needs 3."""
    # given
    today = timezone.localdate()
    document = Document.objects.create(number="MAJ-001", title="Welding", doc_type="sop", owner=staff, created_by=staff)
    rev1, rev2, rev3 = (
        DocumentVersion.objects.create(
            document=document, revision_index=i, revision=str(i), status="effective" if i == 3 else "superseded",
            effective_from=today, author=staff,
        )
        for i in (1, 2, 3)
    )
    Document.objects.filter(pk=document.pk).update(effective_version=rev3)
    RevisionImpact.objects.create(document_version=rev2, is_major=True, decided_by=staff)
    RevisionImpact.objects.create(document_version=rev3, is_major=False, decided_by=staff)
    employees = Group.objects.get(name=qms_roles.EMPLOYEE)
    TrainingRequirement.objects.create(role=employees, document=document, only_major_revisions=True, due_days=30, created_by=staff)
    TrainingRequirement.objects.create(job_function="Welder", document=document, due_days=30, created_by=staff)
    people = {name: make_user(name, qms_roles.EMPLOYEE) for name in ("on1", "on2", "open2", "nothing", "welder")}
    people["welder"].job_function = " welder"
    people["welder"].save()

    def assign(name, version, status, due_date=today):
        return TrainingAssignment.objects.create(
            user=people[name], document_version=version, document=document, source="version_effective",
            due_date=due_date, status=status,
        )

    old = assign("on1", rev1, "completed")
    assign("on2", rev1, "completed")
    assign("on2", rev2, "completed")
    assign("open2", rev1, "completed")
    assign("open2", rev2, "assigned", due_date=today - datetime.timedelta(days=1))
    assign("welder", rev2, "completed")

    # when
    matrix = selectors.training_matrix()

    # then
    cells = {row.user.username: row.cells[0] for row in matrix.rows}
    assert {name: cell.state for name, cell in cells.items()} == {
        "on1": "superseded", "on2": "current", "open2": "overdue", "nothing": "missing", "welder": "superseded",
    }
    assert cells["on1"].assignment_id == old.pk
    assert matrix.columns[0].revision == "3"
    assert matrix.column_compliance == [20]
    assert matrix.totals == {"current": 1, "due": 0, "overdue": 1, "missing": 1, "superseded": 2}
