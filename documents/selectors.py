"""Reads shared by the pages, the API and the home page, scoped to the asking user (docs/style.md).

Visibility (ISO 9001 7.5.3.1 a: documents are available where needed, and only the right
version is in use): employees see documents that have an effective version, and only that
version; Quality Staff, Quality Managers and Auditors see every version."""

import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from documents.models import (
    OPEN_STATUSES,
    STRICT_RULE,
    ApprovalRule,
    Document,
    DocumentType,
    DocumentVersion,
    SignoffKind,
    VersionSignoff,
    VersionStatus,
)
from qms import roles as qms_roles
from qms.mywork import WorkSection

REVIEW_SOON_DAYS = 30

# What "the content" of a version is, for segregation of duties: whoever changed one of these
# fields is an author of the version and may not review or approve it (issue 16).
CONTENT_FIELDS = ("content_text", "file", "file_sha256", "change_summary")


def approval_rule_for(doc_type: str) -> ApprovalRule:
    """The approval matrix row of a document type; the strict default (unsaved) when the site
    has not set one."""
    rule = ApprovalRule.objects.filter(doc_type=doc_type).first()
    return rule if rule is not None else ApprovalRule(doc_type=doc_type, **STRICT_RULE)


def approval_matrix() -> list[ApprovalRule]:
    """Every document type's rule, stored or default, in the order of the types (one query)."""
    stored = {rule.doc_type: rule for rule in ApprovalRule.objects.all()}
    return [stored.get(value) or ApprovalRule(doc_type=value, **STRICT_RULE) for value in DocumentType.values]


def version_content_editor_ids(version: DocumentVersion) -> set[int]:
    """The author and everyone whose saved change altered the version's content, read from its
    history (append-only, so nobody can drop their name from it). One query."""
    editors = {version.author_id}
    previous = None
    rows = version.history.order_by("history_date", "history_id").values("history_user_id", *CONTENT_FIELDS)
    for row in rows:
        content = tuple(row[name] for name in CONTENT_FIELDS)
        if previous is None or content != previous:
            editors.add(row["history_user_id"])
        previous = content
    editors.discard(None)
    return editors


def sees_all_versions(user) -> bool:
    return qms_roles.has_role(user, *qms_roles.READERS)


def document_list_for_user(user) -> QuerySet[Document]:
    """The register: one query whatever the size, with the revision in progress annotated."""
    open_version = DocumentVersion.objects.filter(document=OuterRef("pk"), status__in=OPEN_STATUSES).order_by()
    documents = Document.objects.select_related("owner", "department", "effective_version").annotate(
        open_revision=Subquery(open_version.values("revision")[:1]),
        open_status=Subquery(open_version.values("status")[:1]),
        open_version_id=Subquery(open_version.values("pk")[:1]),
        is_obsolete=Subquery(
            DocumentVersion.objects.filter(document=OuterRef("pk"), status=VersionStatus.OBSOLETE).order_by().values("pk")[:1]
        ),
    )
    if not sees_all_versions(user):
        documents = documents.filter(effective_version__isnull=False)
    return documents.order_by("number")


def document_get(user, pk) -> Document:
    try:
        return document_list_for_user(user).get(pk=pk)
    except (Document.DoesNotExist, ValueError):
        raise Http404("No such document, or it is not available to you.") from None


def versions_for_user(user, document: Document) -> QuerySet[DocumentVersion]:
    versions = document.versions.select_related("author", "superseded_by").order_by("-revision_index")
    if not sees_all_versions(user):
        versions = versions.filter(status=VersionStatus.EFFECTIVE)
    return versions


def version_get(user, document: Document, pk) -> DocumentVersion:
    try:
        version = versions_for_user(user, document).get(pk=pk)
    except (DocumentVersion.DoesNotExist, ValueError):
        raise Http404("No such version, or it is not available to you.") from None
    version.document = document
    return version


def signoffs_of(version: DocumentVersion) -> list[VersionSignoff]:
    """Every round's reviewers and approvers, newest round first, with their signatures."""
    return list(
        version.signoffs.select_related("user", "signature").order_by("-round", "-kind", "id")
    )


def review_state(document: Document, today: datetime.date | None = None) -> str:
    """'overdue', 'due' (within 30 days) or '' for the periodic review of a document."""
    if document.next_review_due is None or document.effective_version_id is None:
        return ""
    today = today or timezone.localdate()
    if document.next_review_due < today:
        return "overdue"
    if document.next_review_due <= today + datetime.timedelta(days=REVIEW_SOON_DAYS):
        return "due"
    return ""


def pending_signoffs_for(user) -> QuerySet[VersionSignoff]:
    return (
        VersionSignoff.objects.filter(
            user=user, completed_at__isnull=True, version__status=VersionStatus.IN_REVIEW,
        )
        .filter(round=F("version__review_round"))  # signoffs of a rejected round drop out
        .select_related("version__document", "version__author")
        .order_by("requested_at")
    )


def reviews_due_for(user) -> QuerySet[Document]:
    soon = timezone.localdate() + datetime.timedelta(days=REVIEW_SOON_DAYS)
    return (
        Document.objects.filter(owner=user, effective_version__isnull=False, next_review_due__lte=soon)
        .select_related("effective_version")
        .order_by("next_review_due")
    )


def my_work(user) -> list[WorkSection]:
    if not qms_roles.may_act(user, *qms_roles.QUALITY):
        return []
    signoffs = list(pending_signoffs_for(user)[:10])
    for signoff in signoffs:
        signoff.verb = "Review" if signoff.kind == SignoffKind.REVIEW else "Approve (sign)"
    due = list(reviews_due_for(user)[:10])
    for document in due:
        document.review_state = review_state(document)
    return [
        WorkSection(
            title="Documents to review or approve",
            template="documents/_mywork_signoffs.html",
            items=signoffs,
            empty_text="No document versions are waiting for your review or signature.",
            more_url=reverse("documents:list") + "?state=in_review",
        ),
        WorkSection(
            title="My documents due for periodic review",
            template="documents/_mywork_reviews.html",
            items=due,
            empty_text="None of your documents is due for periodic review in the next 30 days.",
            more_url=reverse("documents:list") + "?state=review_due&owner=" + str(user.pk),
        ),
    ]
