"""The reason a person gives for a change to a regulated record (21 CFR 11.10(e), EU GMP
Annex 11 §9, ISO 13485 4.2.5). Services call `person_reason` for every edit a person makes, so
the form and the API refuse alike: no reason, a reason that is not text, too long or carrying
control characters is a 400 and nothing changes. Canned reasons ("Effective date reached") are
written only by system actions, never in place of a person's own words."""

import unicodedata

from qms.errors import ValidationFailed

MAX_REASON_CHARS = 4000
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def person_reason(
    reason, *, ask: str = "Say why you make this change.", field: str = "reason"
) -> str:
    """The reason, stripped; refuses a missing, blank, oversized or non-text one."""
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        raise ValidationFailed.on(
            field, f"{ask} The reason is recorded in the audit trail with your name."
        )
    if not isinstance(reason, str):
        raise ValidationFailed.on(field, "The reason must be text.")
    text = reason.strip()
    if len(text) > MAX_REASON_CHARS:
        raise ValidationFailed.on(
            field, f"The reason is longer than {MAX_REASON_CHARS:,} characters."
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text):
        raise ValidationFailed.on(
            field, "The reason contains control characters; write it as plain text."
        )
    return text
