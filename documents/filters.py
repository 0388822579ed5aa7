"""The register's filters, shared by the page and the API (`?doc_type=sop&state=effective&search=`)."""

import datetime

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from documents.models import OPEN_STATUSES, Document, DocumentType, VersionStatus
from qms.models import Department

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
    search = django_filters.CharFilter(method="filter_search", label="Search")
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
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value))

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
