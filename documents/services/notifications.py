"""Who is told of a version's steps: submitted, approved, returned to draft, effective."""

from __future__ import annotations

from django.db import transaction

from documents.models import DocumentVersion, SignoffKind
from qms.notifications import notify


def _version_with_people(version_id: int) -> DocumentVersion:
    return DocumentVersion.objects.select_related("document__owner", "author").get(pk=version_id)


def notify_submitted(version_id: int) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        for signoff in version.signoffs.filter(round=version.review_round).select_related("user"):
            what = "review" if signoff.kind == SignoffKind.REVIEW else "approve"
            notify([signoff.user], subject=f"Please {what} {version}: {version.document.title}",
                   body=f"{version.author.full_name} submitted revision {version.revision}. {version.change_summary}",
                   url=version.get_absolute_url())


def notify_approved(version_id: int) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        notify([version.author, version.document.owner], subject=f"{version} approved",
               body=f"Every approver signed. It becomes effective on {version.effective_from:%d %b %Y}.",
               url=version.get_absolute_url())


def notify_rejected(version_id: int, *, reason: str, by: str) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        notify([version.author], subject=f"{version} returned to draft", body=f"Rejected by {by}: {reason}",
               url=version.get_absolute_url())


def notify_effective(version_id: int) -> None:
    version = _version_with_people(version_id)
    with transaction.atomic():
        notify([version.author, version.document.owner], subject=f"{version} is effective",
               body=f"{version.document.title}, revision {version.revision}, is in use from {version.effective_from:%d %b %Y}.",
               url=version.document.get_absolute_url(), email=False)
