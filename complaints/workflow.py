"""The complaint workflow (docs/api.md "Workflows"), on the kernel's engine (qms.workflow).

    new -> acknowledged -> investigating <-> awaiting_customer
                               |
                               v
                           resolved -> closed
    reopen: resolved/closed -> investigating;  reject: new/acknowledged -> rejected

Buttons, the API's `transitions/` and services.complaint_transition all read this table.
The hooks only set fields of the locked row (and write the survey invitation); the SLA
arithmetic they need lives in complaints.services.
"""

from django.db import models

from qms import roles
from qms.errors import ValidationFailed
from qms.workflow import Action, TransitionContext, Workflow


class ComplaintStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATING = "investigating", "Investigating"
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"


MANAGERS = frozenset({roles.MANAGER})


def _text(ctx: TransitionContext, name: str, limit: int) -> str:
    value = ctx.data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed.on(name, "Must be text.")
    value = value.strip()
    if len(value) > limit:
        raise ValidationFailed.on(name, f"At most {limit} characters.")
    return value


def _yes_no(ctx: TransitionContext, name: str):
    """A yes/no field sent with the step: True/False, "yes"/"no", "true"/"false", or absent."""
    value = ctx.data.get(name, None)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"yes", "true", "1", "on"}:
        return True
    if isinstance(value, str) and value.lower() in {"no", "false", "0", "off"}:
        return False
    raise ValidationFailed.on(name, "Must be yes or no.")


def acknowledge(ctx: TransitionContext) -> None:
    from complaints import services

    # The first response is when it happens, stored once (ISO 10002 8.3).
    if ctx.record.acknowledged_at is None:
        ctx.set("acknowledged_at", ctx.at)
    if ctx.record.assignee_id is None:
        ctx.set("assignee", ctx.actor)
    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="acknowledged")


def wait_for_customer(ctx: TransitionContext) -> None:
    from complaints import services

    # The resolution clock stops while the customer owes us an answer.
    ctx.set("sla_paused_at", ctx.at)
    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="awaiting_customer")


def resume(ctx: TransitionContext) -> None:
    from complaints import services

    services.end_pause(ctx.record, fields=ctx.update_fields, now=ctx.at)
    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="investigating")


def guard_resolve(ctx: TransitionContext) -> None:
    resolution = _text(ctx, "resolution", 10000) or ctx.record.resolution.strip()
    if not resolution:
        raise ValidationFailed.on("resolution", "Describe the resolution before resolving the complaint.")
    ctx.data["resolution"] = resolution


def resolve(ctx: TransitionContext) -> None:
    from complaints import services

    ctx.set("resolution", ctx.data["resolution"])
    ctx.set("resolved_at", ctx.at)
    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="resolved")
    # The invitation row and its e-mail (outbox) are written in this transaction and sent on commit.
    services.survey_invite(complaint=ctx.record, now=ctx.at)


def guard_close(ctx: TransitionContext) -> None:
    """Closure needs the complete regulatory decision (21 CFR 820.198(b), (d); QMSR 820.35(a)):
    whether an investigation was needed (and if not, which earlier investigation covers it or
    why not; never for a reportable complaint), and whether it is reportable (and why)."""
    from complaints import services

    record = ctx.record
    investigation = _yes_no(ctx, "investigation_required")
    no_investigation_reason = _text(ctx, "no_investigation_reason", 4000)
    reference = ctx.data.get("no_investigation_reference")
    reportable = _yes_no(ctx, "is_reportable")
    reportability_reason = _text(ctx, "reportability_reason", 4000)
    product_problem = _yes_no(ctx, "is_product_problem")
    investigation = record.investigation_required if investigation is None else investigation
    no_investigation_reason = no_investigation_reason or record.no_investigation_reason
    if reference is None or reference == "":
        reference = record.no_investigation_reference
    else:
        reference = services.complaint_by_reference(reference)
    reportable = record.is_reportable if reportable is None else reportable
    reportability_reason = reportability_reason or record.reportability_reason
    errors = services.triage_errors(
        record,
        investigation_required=investigation,
        no_investigation_reason=no_investigation_reason,
        no_investigation_reference=reference if investigation is False else None,
        is_reportable=reportable,
        reportability_reason=reportability_reason,
        closing=True,
    )
    if errors:
        message = errors.get("investigation_required", ["The regulatory decision is incomplete."])[0]
        raise ValidationFailed(message, field_errors=errors)
    ctx.data.update(
        investigation_required=investigation,
        no_investigation_reason=no_investigation_reason,
        no_investigation_reference=reference,
        is_reportable=reportable,
        reportability_reason=reportability_reason,
        is_product_problem=record.is_product_problem if product_problem is None else product_problem,
    )


def close(ctx: TransitionContext) -> None:
    from complaints import services

    services.apply_triage(
        ctx.record,
        fields=ctx.update_fields,
        actor=ctx.actor,
        investigation_required=ctx.data["investigation_required"],
        no_investigation_reason=ctx.data["no_investigation_reason"],
        no_investigation_reference=ctx.data["no_investigation_reference"],
        is_reportable=ctx.data["is_reportable"],
        reportability_reason=ctx.data["reportability_reason"],
    )
    if ctx.record.is_product_problem != ctx.data["is_product_problem"]:
        ctx.set("is_product_problem", ctx.data["is_product_problem"])
    ctx.set("closed_at", ctx.at)
    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="closed")
    # Closed as "not a product problem", it is no occurrence of one (issue 16 item 5).
    services.refresh_recurrence(ctx.record, fields=ctx.update_fields, status="closed")
    services.relink_repeats_of(ctx.record, actor=ctx.actor, status="closed")


def reopen(ctx: TransitionContext) -> None:
    from complaints import services

    # The earlier resolution and closure stay in the history; the record shows it is open again.
    ctx.set("resolved_at", None)
    ctx.set("closed_at", None)
    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="investigating")
    services.refresh_recurrence(ctx.record, fields=ctx.update_fields, status="investigating")


def reject(ctx: TransitionContext) -> None:
    from complaints import services

    services.schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="rejected")
    # Not a complaint: it repeats nothing and nothing repeats it (issue 16 item 5).
    services.refresh_recurrence(ctx.record, fields=ctx.update_fields, status="rejected")
    services.relink_repeats_of(ctx.record, actor=ctx.actor, status="rejected")


S = ComplaintStatus

COMPLAINT_WORKFLOW = Workflow(
    states=ComplaintStatus,
    actions=[
        Action("acknowledge", sources=[S.NEW], target=S.ACKNOWLEDGED, roles=roles.QUALITY, apply=acknowledge),
        Action("investigate", sources=[S.ACKNOWLEDGED], target=S.INVESTIGATING, roles=roles.QUALITY,
               label="Start investigation"),
        Action("wait_for_customer", sources=[S.INVESTIGATING], target=S.AWAITING_CUSTOMER, roles=roles.QUALITY,
               label="Wait for customer", apply=wait_for_customer, button_style="secondary"),
        Action("resume", sources=[S.AWAITING_CUSTOMER], target=S.INVESTIGATING, roles=roles.QUALITY,
               label="Resume investigation", apply=resume),
        Action("resolve", sources=[S.INVESTIGATING], target=S.RESOLVED, roles=roles.QUALITY,
               guard=guard_resolve, apply=resolve),
        Action("close", sources=[S.RESOLVED], target=S.CLOSED, roles=MANAGERS, needs_signature=True,
               meaning="Approved for closure", guard=guard_close, apply=close),
        Action("reopen", sources=[S.RESOLVED, S.CLOSED], target=S.INVESTIGATING, roles=roles.QUALITY,
               needs_reason=True, apply=reopen, button_style="secondary"),
        Action("reject", sources=[S.NEW, S.ACKNOWLEDGED], target=S.REJECTED, roles=roles.QUALITY,
               needs_reason=True, apply=reject, label="Reject (not a complaint)", button_style="danger"),
    ],
)
