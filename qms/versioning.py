"""Optimistic locking: every writable record carries `version`; an update names the version it
read, and a mismatch is refused with who saved in between (API 409, form error)."""

from django.db import models
from django.utils import formats, timezone

from qms.errors import StaleVersion
from qms.history import set_history


class VersionedModel(models.Model):
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


def check_version(locked, expected_version) -> None:
    """`locked` was re-read with select_for_update(); `expected_version` is what the client read."""
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise StaleVersion("The record's version is missing; reload the page and try again.") from None
    if locked.version == expected:
        return
    latest = locked.history.first() if hasattr(locked, "history") else None
    who = latest.history_user.full_name if latest and latest.history_user else "someone else"
    when = formats.date_format(timezone.localtime(latest.history_date), "DATETIME_FORMAT") if latest else "a moment ago"
    raise StaleVersion(f"This record was changed by {who} at {when} after you opened it; reload and apply your change again.")


def save_versioned(record, *, actor, reason: str = "", fields: list[str], action: str = "") -> None:
    """Save changed `fields` of a locked record, bump its version and write history."""
    record.version += 1
    set_history(record, user=actor, reason=reason, action=action)
    record.save(update_fields=[*fields, "version"])
