"""Reads of the training app shared by pages, the API, exports and other apps.

`training_matrix()` answers "who is trained on what" for users x required documents in a fixed
number of queries (six, whatever the number of users, documents and assignments): requirements,
users, role memberships, documents with their effective revision, released versions with their
training impact, and the assignments on the revisions each cell needs; a seventh reads older
assignments, only when some cells have none of those. The cell states are computed in Python in
one pass, as plain tuples; the matrix page shows them 50 people at a time
(training.views.MatrixView), and MatrixCell objects are built only for the rows shown or exported.

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


def overdue_user_ids(today=None, *, among=None) -> set[int]:
    """Users with overdue training on the effective version of a required document. One query.
    `among` (user ids) asks about those people only: an index range per person
    (training_open_by_user_idx), 0.1 ms instead of 2.5 ms for everyone at 100k (issue 19)."""
    today = today or timezone.localdate()
    scope = {} if among is None else {"user_id__in": sorted(among)}
    return set(
        TrainingAssignment.objects.filter(
            status=AssignmentStatus.ASSIGNED,
            due_date__lt=today,
            document_version__status="effective",
            **scope,
        )
        .order_by()  # the model's ordering would make DISTINCT keep one row per assignment
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
    """One person. `raw_cells` are (state, assignment id, due date, is waived) tuples, aligned
    with Matrix.columns, None where the document is not required; the MatrixCell objects are
    built on first use of `cells`, as a page shows 50 of the hundreds of people computed."""

    user: object
    raw_cells: list
    counts: dict
    columns: list = field(repr=False)

    @functools.cached_property
    def cells(self) -> list:
        return [
            None
            if raw is None
            else MatrixCell(
                state=raw[0],
                document=column.document,
                revision=column.revision,
                due_date=raw[2],
                assignment_id=raw[1],
                is_waived=raw[3],
            )
            for raw, column in zip(self.raw_cells, self.columns, strict=True)
        ]

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
    # Per column: (people current, people required), counted with the cells.
    column_counts: list = field(default_factory=list)

    @property
    def required(self) -> int:
        return sum(self.totals.values())

    @property
    def compliance(self) -> int | None:
        return round(100 * self.totals.get(CURRENT, 0) / self.required) if self.required else None

    @property
    def column_compliance(self) -> list[int | None]:
        """Per document (column): the share of the people required who are current."""
        return [
            round(100 * current / required) if required else None
            for current, required in self.column_counts
        ]


def _norm(value: str) -> str:
    return (value or "").strip().casefold()


def _require(source: dict, requirement: dict) -> None:
    """Add one requirement to `source` (document id -> only major revisions). Only major
    revisions count when every requirement that brings the document says so."""
    doc_id = requirement["document_id"]
    source[doc_id] = source.get(doc_id, True) and requirement["only_major_revisions"]


def _combine(applicable: dict, source: dict) -> None:
    for doc_id, only_major in source.items():
        applicable[doc_id] = applicable.get(doc_id, True) and only_major


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

    # The required documents with an effective version (the others have no cell), and per
    # document the revisions a person may be trained on, from the target to the effective one.
    # The target is the effective revision or, when only major revisions count, the newest
    # major revision released up to the effective one: neither depends on the person.
    documents = Document.objects.filter(pk__in=doc_ids, effective_version__isnull=False)
    documents = {
        doc.pk: doc
        for doc in documents.annotate(
            effective_revision=F("effective_version__revision"),
            effective_index=F("effective_version__revision_index"),
        )
    }
    effective_index = {doc_id: doc.effective_index for doc_id, doc in documents.items()}
    majors = defaultdict(list)
    for doc_id, index, impact_is_major in (
        DocumentVersion.objects.filter(
            document_id__in=documents, status__in=("effective", "superseded")
        )
        .annotate(impact_is_major=F("training_impact__is_major"))
        .values_list("document_id", "revision_index", "impact_is_major")
    ):
        if (index <= 1 or impact_is_major is not False) and index <= effective_index[doc_id]:
            majors[doc_id].append(index)
    major_index = {
        doc_id: max(majors[doc_id]) if majors[doc_id] else eff_index
        for doc_id, eff_index in effective_index.items()
    }

    # Which documents each role and each job function requires (document id -> only major
    # revisions). People with the same roles and job function (a profile: a few of them
    # for hundreds of people) require the same documents on the same revisions.
    by_role = defaultdict(dict)
    by_function = defaultdict(dict)
    for r in requirements:
        if r["document_id"] not in effective_index:
            continue
        if r["role_id"]:
            _require(by_role[r["role_id"]], r)
        else:
            _require(by_function[_norm(r["job_function"])], r)
    profiles = {}
    people = []
    for user in users:
        profile = (frozenset(memberships[user.pk]), user.jf)
        if profile not in profiles:
            applicable = {}
            for role in profile[0]:
                _combine(applicable, by_role.get(role, {}))
            _combine(applicable, by_function.get(user.jf, {}))
            profiles[profile] = applicable
        if profiles[profile]:  # nobody is listed without a required document
            people.append((user, profile))
    if not people:
        return Matrix(columns=[], rows=[], totals=dict.fromkeys(CELL_STATES, 0))

    used = set().union(*profiles.values())
    ordered_docs = sorted((documents[d] for d in documents if d in used), key=lambda d: d.number)
    columns = [
        MatrixColumn(
            document=doc,
            revision=doc.effective_revision,
            version_id=doc.effective_version_id,
        )
        for doc in ordered_docs
    ]
    position = {doc.pk: i for i, doc in enumerate(ordered_docs)}
    # Per profile and document: the revisions to train on, (target, effective).
    spans = {
        profile: {
            doc_id: (
                major_index[doc_id] if only_major else effective_index[doc_id],
                effective_index[doc_id],
            )
            for doc_id, only_major in applicable.items()
        }
        for profile, applicable in profiles.items()
    }
    span_of = {user.pk: spans[profile] for user, profile in people}
    places = {  # per profile, (document, column) of each cell
        profile: [(d, position[d]) for d in applicable] for profile, applicable in spans.items()
    }

    # Per cell, (user, document), the newest completed or waived assignment and the newest open
    # one on a revision from the target to the effective one: they decide almost every cell.
    # Only those revisions are read (per document, from its lowest target to its effective
    # one), as the older ones are most of the rows and matter only to the cells with neither.
    # The rows are reduced as they arrive, into no list per cell: keeping tens of thousands of
    # rows alive costs as much in garbage collection as reading them. No ORDER BY: a person has
    # one assignment per version, and sorting them costs a disk sort.
    lowest_target = {}
    for profile_spans in spans.values():
        for doc_id, (target, _) in profile_spans.items():
            lowest_target[doc_id] = min(target, lowest_target.get(doc_id, target))
    ranges = defaultdict(list)
    for doc_id, target in lowest_target.items():
        ranges[target, effective_index[doc_id]].append(doc_id)
    in_range = Q()
    for revisions, range_doc_ids in ranges.items():
        in_range |= Q(
            document_id__in=range_doc_ids, document_version__revision_index__range=revisions
        )
    fields = (
        "pk",
        "user_id",
        "document_id",
        "document_version__revision_index",
        "status",
        "due_date",
    )
    done, open_ = {}, {}
    for row in (
        TrainingAssignment.objects.filter(in_range, user_id__in=span_of)
        .order_by()
        .values_list(*fields)
    ):
        span = span_of[row[1]].get(row[2])
        if span is None or not span[0] <= row[3] <= span[1]:
            continue  # not required of this person, or not on a revision they must train on
        if row[4] in DONE:
            newest = done
        elif row[4] == AssignmentStatus.ASSIGNED:
            newest = open_
        else:
            continue
        key = row[1], row[2]
        if key not in newest or row[3] > newest[key][3]:
            newest[key] = row
    # A cell is (state, assignment id, due date, is waived): current on the newest completed or
    # waived assignment, else due or overdue on the newest open one, else (below) trained on an
    # old revision, else missing.
    rows = []
    lacking = {}  # (user, document) -> the cells and counts of the person's row, filled below
    width = len(columns)
    current_per_column = [0] * width
    required_per_column = [0] * width
    for user, profile in people:
        cells = [None] * width
        counts = dict.fromkeys(CELL_STATES, 0)
        uid = user.pk
        for doc_id, i in places[profile]:
            required_per_column[i] += 1
            key = uid, doc_id
            if key in done:
                a = done[key]
                cell = (CURRENT, a[0], None, a[4] == AssignmentStatus.WAIVED)
                current_per_column[i] += 1
            elif key in open_:
                a = open_[key]
                cell = (OVERDUE if a[5] < today else DUE, a[0], a[5], False)
            else:
                lacking[key] = (cells, counts)
                continue
            cells[i] = cell
            counts[cell[0]] += 1
        rows.append(MatrixRow(user=user, raw_cells=cells, counts=counts, columns=columns))

    # The other cells: the newest assignment on a revision older than the target, if any (one
    # more query, only when there are such cells).
    older = {}
    if lacking:
        for row in (
            TrainingAssignment.objects.filter(
                user_id__in={user_id for user_id, _ in lacking},
                document_id__in={doc_id for _, doc_id in lacking},
            )
            .order_by()
            .values_list(*fields)
        ):
            key = row[1], row[2]
            if key not in lacking or row[3] >= span_of[row[1]][row[2]][0]:
                continue
            if key not in older or row[3] > older[key][3]:
                older[key] = row
    for key, (cells, counts) in lacking.items():
        a = older.get(key)
        cell = (MISSING, None, None, False) if a is None else (SUPERSEDED, a[0], None, False)
        cells[position[key[1]]] = cell
        counts[cell[0]] += 1

    totals = {state: sum(row.counts[state] for row in rows) for state in CELL_STATES}
    return Matrix(
        columns=columns,
        rows=rows,
        totals=totals,
        column_counts=list(zip(current_per_column, required_per_column, strict=True)),
    )


def rows_with_state(matrix: Matrix, state: str | None) -> list:
    """The matrix's people, or only those with at least one cell in `state` (the status
    filter: e.g. everyone with overdue training)."""
    if not state:
        return matrix.rows
    return [row for row in matrix.rows if row.counts.get(state)]


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
