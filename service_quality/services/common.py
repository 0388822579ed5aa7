"""What the service-quality services share: the text, number and choice checks, the scorecard
managers' permission, and the service that takes a step of a workflow."""

from __future__ import annotations

from qms.errors import NotAllowed, ValidationFailed
from qms.input import service_text
from qms.workflow import transition
from service_quality.permissions import may_manage_scorecards

MAX_TEXT = 4000


def _text(value, field: str, *, required: bool = False, max_length: int = MAX_TEXT) -> str:
    return service_text(value, field, required=required, max_length=max_length)


def _int(value, field: str, *, low: int, high: int) -> int:
    message = f"Enter a whole number from {low} to {high}."
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValidationFailed.on(field, message)
    if not low <= number <= high:
        raise ValidationFailed.on(field, message)
    return number


def _choice(value, field: str, choices) -> str:
    valid = {c for c, _ in choices}
    if value not in valid:
        raise ValidationFailed.on(
            field, f"Choose one of: {', '.join(sorted(v for v in valid if v)) or 'none'}."
        )
    return value


def _require_scorecard_manager(actor) -> None:
    if not may_manage_scorecards(actor):
        raise NotAllowed("Only Quality Managers may change scorecards.")


def workflow_transition(workflow):
    """The service that takes one step of `workflow` on a record (qms.workflow.transition):
    `scorecard_transition`, `evaluation_transition` and `coaching_transition` are made by it."""

    def run(record, action: str, *, actor, reason="", password=None, meaning=None, data=None):
        return transition(
            workflow,
            record,
            action,
            actor=actor,
            reason=reason,
            password=password,
            meaning=meaning,
            data=data,
        )

    return run
