"""The periods KPIs are computed for (whole local days) and the filters a dashboard applies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    Q,
)
from django.utils import timezone

# --- periods and filters --------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive

    @classmethod
    def last_days(cls, days: int, *, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - datetime.timedelta(days=days - 1), today)

    @classmethod
    def day(cls, day: datetime.date) -> Period:
        return cls(day, day)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (for the tiles' trend arrows)."""
        end = self.start - datetime.timedelta(days=1)
        return Period(end - datetime.timedelta(days=self.days - 1), end)

    @property
    def start_at(self) -> datetime.datetime:
        return _local_midnight(self.start)

    @property
    def end_at(self) -> datetime.datetime:
        return _local_midnight(self.end + datetime.timedelta(days=1))

    def as_of(self, now: datetime.datetime | None = None) -> datetime.datetime:
        """Where stock KPIs are measured: the end of the period, or now if that is earlier."""
        return min(self.end_at, now or timezone.now())

    @property
    def months(self) -> tuple[datetime.date, datetime.date]:
        """The first days of the first and the last calendar month the period touches."""
        return self.start.replace(day=1), self.end.replace(day=1)

    def __str__(self):
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class KpiFilters:
    product: int | None = None
    category: int | None = None
    severity: str | None = None
    department: int | None = None

    def complaint_q(self, prefix: str = "") -> Q:
        q = Q()
        if self.product:
            q &= Q(**{f"{prefix}product_id": self.product})
        if self.category:
            q &= Q(**{f"{prefix}category_id": self.category})
        if self.severity:
            q &= Q(**{f"{prefix}severity": self.severity})
        return q

    def department_q(self, path: str) -> Q:
        return Q(**{path: self.department}) if self.department else Q()

    @property
    def is_empty(self) -> bool:
        return not (self.product or self.category or self.severity or self.department)


NO_FILTERS = KpiFilters()
