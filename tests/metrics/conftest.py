"""Builders for the metrics tests: rows with exactly the timestamps a KPI reads, so every KPI
can be checked against a hand-computed answer. The workflows that produce these rows are
tested in their own apps; here only the measurements matter."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from tests.conftest import make_user

TZ = timezone.get_default_timezone()


def at(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """The instant of that local wall-clock time, in UTC, so that `at(day) + 144 * H` is 144
    elapsed hours even across a clock change (aware arithmetic in a zone with DST adds
    wall-clock time: 144 hours across the end of BST would be 145)."""
    local = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)), TZ)
    return local.astimezone(datetime.UTC)


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


class Builder:
    """Creates complaints, surveys, CAPAs, checks, training assignments and documents."""

    def __init__(self, actor):
        from complaints.models import Category, Customer, Product

        self.actor = actor
        self.customer = Customer.objects.create(name="Acme Clinic", email="buyer@acme.example")
        self.product = Product.objects.create(code="PX-100", name="Infusion pump")
        self.other_product = Product.objects.create(code="PX-200", name="Syringe driver")
        self.category = Category.objects.create(name="Leak")
        self.other_category = Category.objects.create(name="Alarm")
        self._n = 0

    def complaint(self, *, received_at, product=None, category=None, severity="medium", status="new", **fields):
        from complaints.models import Complaint

        self._n += 1
        fields.setdefault("resolution", "Fixed." if status in ("resolved", "closed") else "")
        if status == "closed":
            fields.setdefault("is_reportable", False)
        return Complaint.objects.create(
            reference=f"CMP-T-{self._n:05d}", title=f"Complaint {self._n}", description="Test.",
            customer=self.customer, product=product if product is not None else self.product,
            category=category if category is not None else self.category, severity=severity, status=status,
            created_by=self.actor, received_at=received_at, **fields,
        )

    def survey(self, complaint, *, answered_at, csat, ces, nps):
        from complaints.models import Survey

        self._n += 1
        return Survey.objects.create(
            complaint=complaint, email="c@example.org", token_hash=f"{self._n:064d}", sent_at=answered_at,
            expires_at=answered_at + datetime.timedelta(days=30), answered_at=answered_at, csat=csat, ces=ces, nps=nps,
        )

    def capa(self, *, created_at, due_date, status="open", closed_at=None, owner=None):
        from capa.models import Capa

        self._n += 1
        return Capa.objects.create(
            reference=f"CAPA-T-{self._n:04d}", title="Leaks", problem_statement="Leaks.", risk_level="medium",
            owner=owner or self.actor, due_date=due_date, status=status, created_by=self.actor,
            created_at=created_at, closed_at=closed_at,
        )

    def check(self, capa, *, result, verified_at):
        from capa.models import EffectivenessCheck

        return EffectivenessCheck.objects.create(
            capa=capa, criteria="No recurrence.", verifier=self.actor, result=result, verified_at=verified_at,
            verified_by=self.actor if verified_at else None, created_by=self.actor,
        )

    def document(self, *, next_review_due=None, department=None, created_at=None):
        from documents.models import Document, DocumentVersion
        from qms.references import allocate_reference

        with transaction.atomic():
            document = Document.objects.create(
                number=allocate_reference("SOP", width=3, per_year=False), title="Seal SOP", doc_type="sop",
                owner=self.actor, created_by=self.actor, next_review_due=next_review_due, department=department,
                created_at=created_at or timezone.now() - datetime.timedelta(days=400),
            )
            version = DocumentVersion.objects.create(
                document=document, revision_index=1, revision="1", status="effective", content_text="Text.",
                effective_from=timezone.localdate(), effective_at=timezone.now(), author=self.actor,
            )
            document.effective_version = version
            document.save(update_fields=["effective_version"])
        return document

    def assignment(self, *, user, document, assigned_at, due_date, status="assigned", completed_at=None, closed_at=None):
        from training.models import TrainingAssignment

        return TrainingAssignment.objects.create(
            user=user, document_version=document.effective_version, document=document, status=status,
            source="version_effective", assigned_at=assigned_at, due_date=due_date, completed_at=completed_at,
            closed_at=closed_at or completed_at,
        )

    def shipped(self, *, product=None, month, units):
        from metrics.models import ShippedUnits

        return ShippedUnits.objects.create(product=product or self.product, month=month, units=units, entered_by=self.actor)


@pytest.fixture
def build(manager):
    return Builder(manager)


@pytest.fixture
def manager2(db):
    return make_user("manager2", qms_roles.MANAGER)


def make_target(kpi: str, *, target, threshold, window_days=30, owners=()):
    from metrics.models import KpiTarget
    from qms.services import system_user

    record = KpiTarget.objects.create(
        kpi=kpi, target=Decimal(str(target)), threshold=Decimal(str(threshold)), window_days=window_days, updated_by=system_user()
    )
    record.owners.set(owners)
    return record
