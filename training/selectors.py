"""Reads of the training app shared by pages, the API, exports and other apps.

`training_matrix()` answers "who is trained on what" for users x required documents in a fixed
number of queries (five, whatever the number of users, documents and assignments): requirements,
users, role memberships, released versions with their training impact and their documents'
effective versions, assignments. The cell states are computed in Python from those rows; the
matrix page shows them 50 people at a time (training.views.MatrixView).

`overdue_user_ids()` is for every other app: the people whose training on the effective
version of a required document is overdue (one query), shown as a flag wherever their work is
(templatetag `{% training_flag person %}` in training_tags).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone

from documents.models import Document, DocumentVersion
from qms.mywork import WorkSection
from training.models import AssignmentStatus, TrainingAssignment, TrainingRequirement

CURRENT, DUE, OVERDUE, MISSING, SUPERSEDED = "current", "due", "overdue", "missing", "superseded"
CELL_STATES = (CURRENT, DUE, OVERDUE, MISSING, SUPERSEDED)
STATE_LABELS = {
    CURRENT: "Current",
    DUE: "Due",
    OVERDUE: "Overdue",
    MISSING: "Missing",
    SUPERSEDED: "Trained on an old revision",
}
DONE = {AssignmentStatus.COMPLETED, AssignmentStatus.WAIVED}


@functools.cache
def _assignments_url() -> str:
    return reverse("training:assignments")


def overdue_user_ids(today=None) -> set[int]:
    """Users with overdue training on the effective version of a required document. One query."""
    today = today or timezone.localdate()
    return set(
        TrainingAssignment.objects.filter(
            status=AssignmentStatus.ASSIGNED,
            due_date__lt=today,
            document_version__status="effective",
        )
        .values_list("user_id", flat=True)
        .distinct()
    )


# ---------------------------------------------------------------- the matrix


@dataclass
class MatrixColumn:
    document: Document
    revision: str = ""
    version_id: int | None = None


@dataclass
class MatrixCell:
    state: str
    document: Document
    revision: str = ""
    due_date: object = None
    assignment_id: int | None = None
    is_waived: bool = False

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def text(self) -> str:
        """What the matrix cell shows: a tick, W(aived), the due date, or the gap."""
        if self.state == CURRENT:
            return "W" if self.is_waived else "✓"
        if self.state in (DUE, OVERDUE) and self.due_date:
            return self.due_date.strftime("%d %b")
        return "old rev" if self.state == SUPERSEDED else "missing"

    @property
    def title(self) -> str:
        due = f", due {self.due_date:%d %b %Y}" if self.due_date and self.state != CURRENT else ""
        return f"{self.document.number} rev {self.revision}: {'Waived' if self.is_waived else self.label}{due}"

    @property
    def url(self) -> str:
        # One reverse() per process, not per cell: the matrix has thousands of cells.
        return f"{_assignments_url()}{self.assignment_id}/" if self.assignment_id else ""


@dataclass
class MatrixRow:
    user: object
    cells: list  # aligned with Matrix.columns; None where the document is not required
    counts: dict = field(default_factory=dict)

    @property
    def required(self) -> int:
        return sum(self.counts.values())

    @property
    def compliance(self) -> int | None:
        return round(100 * self.counts.get(CURRENT, 0) / self.required) if self.required else None


@dataclass
class Matrix:
    columns: list
    rows: list
    totals: dict

    @property
    def required(self) -> int:
        return sum(self.totals.values())

    @property
    def compliance(self) -> int | None:
        return round(100 * self.totals.get(CURRENT, 0) / self.required) if self.required else None

    @property
    def column_compliance(self) -> list[int | None]:
        """Per document (column): the share of the people required who are current."""
        shares = []
        for index in range(len(self.columns)):
            cells = [row.cells[index] for row in self.rows if row.cells[index] is not None]
            current = sum(1 for cell in cells if cell.state == CURRENT)
            shares.append(round(100 * current / len(cells)) if cells else None)
        return shares


def _norm(value: str) -> str:
    return (value or "").strip().casefold()


def training_matrix(
    *, role_id=None, department_id=None, document_id=None, user_ids=None, today=None
) -> Matrix:
    today = today or timezone.localdate()
    User = get_user_model()

    requirements = list(
        TrainingRequirement.objects.filter(is_active=True).values(
            "role_id", "job_function", "document_id", "only_major_revisions"
        )
    )
    if document_id:
        requirements = [r for r in requirements if r["document_id"] == document_id]
    role_ids = {r["role_id"] for r in requirements if r["role_id"]}
    functions = {_norm(r["job_function"]) for r in requirements if not r["role_id"]}
    doc_ids = {r["document_id"] for r in requirements}
    if not requirements:
        return Matrix(columns=[], rows=[], totals=dict.fromkeys(CELL_STATES, 0))

    users = User.objects.filter(is_active=True).annotate(jf=Lower(Trim("job_function")))
    users = users.filter(Q(groups__in=role_ids) | Q(jf__in=functions))
    if role_id:
        users = users.filter(groups=role_id)
    if department_id:
        users = users.filter(department_id=department_id)
    if user_ids is not None:
        users = users.filter(pk__in=user_ids)
    users = list(
        users.select_related("department")
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    ids = [u.pk for u in users]

    memberships = defaultdict(set)
    for uid, gid in User.groups.through.objects.filter(
        user_id__in=ids, group_id__in=role_ids
    ).values_list("user_id", "group_id"):
        memberships[uid].add(gid)

    # Released versions (for "only major revisions": index and major/minor per document), each
    # with its document and the document's effective version: one query for both. A document
    # with no released version has no effective one, so it never has a cell.
    documents = {}
    released = defaultdict(list)
    for version in (
        DocumentVersion.objects.filter(
            document_id__in=doc_ids, status__in=("effective", "superseded")
        )
        .select_related("document__effective_version")
        .annotate(impact_is_major=F("training_impact__is_major"))
    ):
        documents.setdefault(version.document_id, version.document)
        index = version.revision_index
        released[version.document_id].append(
            (index, index <= 1 or version.impact_is_major is not False)
        )
    # (pk, revision index, status, due date) per (user, document): tuples, not dicts, as the
    # full matrix reads tens of thousands of them.
    assignments = defaultdict(list)
    for (
        pk,
        user_id,
        document_id,
        revision_index,
        status,
        due_date,
    ) in TrainingAssignment.objects.filter(user_id__in=ids, document_id__in=doc_ids).values_list(
        "pk", "user_id", "document_id", "document_version__revision_index", "status", "due_date"
    ):
        assignments[(user_id, document_id)].append((pk, revision_index, status, due_date))

    ordered_docs = sorted(
        (d for d in documents.values() if d.effective_version is not None), key=lambda d: d.number
    )
    position = {doc.pk: i for i, doc in enumerate(ordered_docs)}
    # Which requirements apply through each role and each job function, per document: a
    # person's cells come from their roles and function, not from every document in turn.
    by_role = defaultdict(lambda: defaultdict(list))
    by_function = defaultdict(lambda: defaultdict(list))
    for r in requirements:
        if r["document_id"] not in position:
            continue
        if r["role_id"]:
            by_role[r["role_id"]][r["document_id"]].append(r)
        else:
            by_function[_norm(r["job_function"])][r["document_id"]].append(r)

    rows = []
    used_docs = set()
    totals = dict.fromkeys(CELL_STATES, 0)
    for user in users:
        applicable = defaultdict(list)
        for role in memberships[user.pk]:
            for doc_id, reqs in by_role[role].items():
                applicable[doc_id].extend(reqs)
        for doc_id, reqs in by_function.get(user.jf, {}).items():
            applicable[doc_id].extend(reqs)
        cells = [None] * len(ordered_docs)
        counts = dict.fromkeys(CELL_STATES, 0)
        for doc_id, reqs in applicable.items():
            doc = documents[doc_id]
            cell = _cell(doc, reqs, released[doc_id], assignments[(user.pk, doc_id)], today)
            cells[position[doc_id]] = cell
            counts[cell.state] += 1
            totals[cell.state] += 1
            used_docs.add(doc_id)
        rows.append(MatrixRow(user=user, cells=cells, counts=counts))

    keep = [i for i, doc in enumerate(ordered_docs) if doc.pk in used_docs]
    columns = [
        MatrixColumn(
            document=ordered_docs[i],
            revision=ordered_docs[i].effective_version.revision,
            version_id=ordered_docs[i].effective_version_id,
        )
        for i in keep
    ]
    rows = [
        MatrixRow(user=row.user, cells=[row.cells[i] for i in keep], counts=row.counts)
        for row in rows
        if row.required
    ]
    return Matrix(columns=columns, rows=rows, totals=totals)


def rows_with_state(matrix: Matrix, state: str | None) -> list:
    """The matrix's people, or only those with at least one cell in `state` (the status
    filter: e.g. everyone with overdue training)."""
    if not state:
        return matrix.rows
    return [row for row in matrix.rows if row.counts.get(state)]


def _target_revision(doc, applicable, released) -> int:
    """The revision the person must be trained on: the effective one, or (when only major
    revisions count) the newest major revision released up to the effective one."""
    eff_index = doc.effective_version.revision_index
    if any(not r["only_major_revisions"] for r in applicable):
        return eff_index
    majors = [index for index, is_major in released if is_major and index <= eff_index]
    return max(majors) if majors else eff_index


def _cell(doc, applicable, released, user_assignments, today) -> MatrixCell:
    """The state of one cell; `user_assignments` are (pk, revision index, status, due date)."""
    effective = doc.effective_version
    base = {"document": doc, "revision": effective.revision}
    if not user_assignments:
        return MatrixCell(MISSING, **base)
    eff_index = effective.revision_index
    target = _target_revision(doc, applicable, released)
    in_range = [a for a in user_assignments if target <= a[1] <= eff_index]
    done = [a for a in in_range if a[2] in DONE]
    if done:
        best = max(done, key=lambda a: a[1])
        return MatrixCell(
            CURRENT, assignment_id=best[0], is_waived=best[2] == AssignmentStatus.WAIVED, **base
        )
    open_ = [a for a in in_range if a[2] == AssignmentStatus.ASSIGNED]
    if open_:
        a = max(open_, key=lambda a: a[1])
        state = OVERDUE if a[3] < today else DUE
        return MatrixCell(state, assignment_id=a[0], due_date=a[3], **base)
    older = [a for a in user_assignments if a[1] < target]
    if older:
        a = max(older, key=lambda a: a[1])
        return MatrixCell(SUPERSEDED, assignment_id=a[0], **base)
    return MatrixCell(MISSING, **base)


# ---------------------------------------------------------------- my training


def open_assignments_for(user):
    return (
        TrainingAssignment.objects.filter(user=user, status=AssignmentStatus.ASSIGNED)
        .select_related("document_version__document")
        .order_by("due_date", "pk")
    )


def done_assignments_for(user, limit: int = 50):
    return (
        TrainingAssignment.objects.filter(user=user)
        .exclude(status=AssignmentStatus.ASSIGNED)
        .select_related("document_version__document", "session")
        .order_by("-closed_at", "-pk")[:limit]
    )


def assignment_list(user):
    """Assignments the user may see: everything for quality readers, their own otherwise."""
    from qms import roles as qms_roles

    qs = TrainingAssignment.objects.select_related("user", "document_version__document")
    if not qms_roles.has_role(user, *qms_roles.READERS):
        qs = qs.filter(user=user)
    return qs


def team_overdue_for(manager, today=None):
    """Overdue training of the people who report to `manager` (they receive the escalations)."""
    return (
        TrainingAssignment.objects.filter(
            user__manager=manager,
            user__is_active=True,
            status=AssignmentStatus.ASSIGNED,
            due_date__lt=today or timezone.localdate(),
            document_version__status="effective",
        )
        .select_related("user", "document_version__document")
        .order_by("due_date", "pk")
    )


def my_work(user) -> list[WorkSection]:
    """ "My training" (nearest due first) and, for a manager, their team's overdue training."""
    sections = []
    items = list(open_assignments_for(user)[:6])
    if items:
        sections.append(
            WorkSection(
                title="My training",
                template="training/_mywork.html",
                items=items,
                more_url="/training/my/",
                count=open_assignments_for(user).count() if len(items) == 6 else len(items),
                empty_text="No training is waiting for you.",
            )
        )
    team = list(team_overdue_for(user)[:6])
    if team:
        sections.append(
            WorkSection(
                title="Overdue training in my team",
                template="training/_mywork_team.html",
                items=team,
                empty_text="Nobody in your team is late.",
            )
        )
    return sections
