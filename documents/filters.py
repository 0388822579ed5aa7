"""The register's filters, shared by the page and the API (`?doc_type=sop&state=effective&search=`)."""

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from documents.models import OPEN_STATUSES, Document, DocumentType, DocumentVersion, VersionStatus
from documents.selectors import sees_all_versions
from qms.models import Department
from qms.search import SEARCH_MAX_LENGTH, Related, TextSearch, ranked


def document_search(*, with_open_versions: bool) -> TextSearch:
    """The document's number and title (its stored vector, documents 0005) and the text of its
    current versions: the effective one, and for readers who see drafts the one in progress too
    (an employee's search must not reveal what an unreleased draft says)."""
    statuses = [VersionStatus.EFFECTIVE, *(OPEN_STATUSES if with_open_versions else ())]
    return TextSearch(
        fields=("number", "title"),
        reference="number",
        related=(Related("id", DocumentVersion, "document_id", ("change_summary", "content_text"), Q(status__in=statuses)),),
    )

STATE_CHOICES = [
    ("effective", "Effective"),
    ("in_progress", "Revision in progress"),
    ("in_review", "In review"),
    ("approved", "Approved, awaiting effective date"),
    ("not_released", "Never released"),
    ("obsolete", "Obsolete"),
    ("review_due", "Periodic review due (30 days)"),
    ("review_overdue", "Periodic review overdue"),
]


class DocumentFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", label="Search", max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Number or any words"}),
    )
    doc_type = django_filters.ChoiceFilter(choices=DocumentType.choices, label="Type", empty_label="Any type")
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all(), empty_label="Any department")
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(owned_documents__isnull=False).distinct(), empty_label="Anyone"
    )
    state = django_filters.ChoiceFilter(choices=STATE_CHOICES, method="filter_state", label="State", empty_label="Any state")
    ordering = django_filters.OrderingFilter(
        fields=(("number", "number"), ("title", "title"), ("next_review_due", "next_review_due"), ("doc_type", "doc_type")),
    )

    class Meta:
        model = Document
        fields = ["search", "doc_type", "department", "owner", "state"]

    def filter_search(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        search = document_search(with_open_versions=user is not None and sees_all_versions(user))
        return search.apply(queryset, value)

    @property
    def qs(self):
        queryset = super().qs
        if getattr(self.form, "cleaned_data", {}).get("ordering"):
            return queryset
        return ranked(queryset, "number")  # best match first when searched

    def filter_state(self, queryset, name, value):
        today = timezone.localdate()
        match value:
            case "effective":
                return queryset.filter(effective_version__isnull=False)
            case "in_progress":
                return queryset.filter(versions__status__in=OPEN_STATUSES).distinct()
            case "in_review":
                return queryset.filter(versions__status=VersionStatus.IN_REVIEW).distinct()
            case "approved":
                return queryset.filter(versions__status=VersionStatus.APPROVED).distinct()
            case "not_released":
                return queryset.exclude(versions__status__in=[VersionStatus.EFFECTIVE, VersionStatus.SUPERSEDED, VersionStatus.OBSOLETE])
            case "obsolete":
                return queryset.filter(effective_version__isnull=True, versions__status=VersionStatus.OBSOLETE).distinct()
            case "review_due":
                soon = today + datetime.timedelta(days=30)
                return queryset.filter(effective_version__isnull=False, next_review_due__lte=soon)
            case "review_overdue":
                return queryset.filter(effective_version__isnull=False, next_review_due__lt=today)
        return queryset
