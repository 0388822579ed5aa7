"""What the service-quality models share: the interaction an evaluation, analysis, task or
calibration item is about (a complaint and, for a communication-log entry, the entry), and the
check that a stored answer is one of the scales' answers (service_quality/scoring.py)."""

from django.db import models
from django.db.models import Q

# Every answer of every scale (scoring.ANSWERS), as the database checks it.
ANSWER_CODES = ("yes", "no", "na", "1", "2", "3", "4", "5")


def complaint_field(*, related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, related_name=related_name
    )


def communication_field(*, related_name: str, one_to_one: bool = False) -> models.ForeignKey:
    """The communication-log entry evaluated; empty for the handling of a complaint as a whole."""
    field = models.OneToOneField if one_to_one else models.ForeignKey
    return field(
        "complaints.Communication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name=related_name,
    )


def answer_is_valid(*, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(answer__in=list(ANSWER_CODES)), name=name)
