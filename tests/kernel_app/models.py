"""A minimal regulated record, shaped like the product's records (reference, status, version,
history), so the kernel can be tested on its own."""

from django.conf import settings
from django.db import models

from qms.history import regulated_history
from qms.versioning import VersionedModel


class SpecimenStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Specimen(VersionedModel):
    reference = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=SpecimenStatus.choices, default=SpecimenStatus.DRAFT)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    history = regulated_history()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("kernel_app:detail", args=[self.pk])
