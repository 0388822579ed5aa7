"""The steps of COMPLAINT_WORKFLOW that write beyond the record's own fields, registered under
the names the workflow gives them (qms/workflow.py)."""

from __future__ import annotations

from complaints.services.deadlines import end_pause, schedule_next_escalation
from complaints.services.recurrence import refresh_recurrence, relink_repeats_of
from complaints.services.surveys import survey_invite
from complaints.services.triage import apply_triage, complaint_by_reference, triage_errors
from complaints.workflow import COMPLAINT_WORKFLOW, data_text, data_yes_no
from qms.errors import ValidationFailed
from qms.workflow import TransitionContext

# --- Workflow hooks ------------------------------------------------------------------------
# The steps of COMPLAINT_WORKFLOW that write beyond the record's own fields, registered under
# the names the workflow gives them (qms/workflow.py).


@COMPLAINT_WORKFLOW.hook("acknowledge")
def hook_acknowledge(ctx: TransitionContext) -> None:
    # The first response is when it happens, stored once (ISO 10002 8.3).
    if ctx.record.acknowledged_at is None:
        ctx.set("acknowledged_at", ctx.at)
    if ctx.record.assignee_id is None:
        ctx.set("assignee", ctx.actor)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="acknowledged")


@COMPLAINT_WORKFLOW.hook("wait_for_customer")
def hook_wait_for_customer(ctx: TransitionContext) -> None:
    # The resolution clock stops while the customer owes us an answer.
    ctx.set("sla_paused_at", ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="awaiting_customer")


@COMPLAINT_WORKFLOW.hook("resume")
def hook_resume(ctx: TransitionContext) -> None:
    end_pause(ctx.record, fields=ctx.update_fields, now=ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="investigating")


@COMPLAINT_WORKFLOW.hook("resolve")
def hook_resolve(ctx: TransitionContext) -> None:
    ctx.set("resolution", ctx.data["resolution"])
    ctx.set("resolved_at", ctx.at)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="resolved")
    # The invitation row and its e-mail (outbox) are written in this transaction and sent on commit.
    survey_invite(complaint=ctx.record, now=ctx.at)


@COMPLAINT_WORKFLOW.hook("guard_close")
def hook_guard_close(ctx: TransitionContext) -> None:
    """Closure needs the complete regulatory decision (21 CFR 820.198(b), (d); QMSR 820.35(a)):
    whether an investigation was needed (and if not, which earlier investigation covers it or
    why not; never for a reportable complaint), and whether it is reportable (and why)."""
    record = ctx.record
    investigation = data_yes_no(ctx, "investigation_required")
    no_investigation_reason = data_text(ctx, "no_investigation_reason", 4000)
    reference = ctx.data.get("no_investigation_reference")
    reportable = data_yes_no(ctx, "is_reportable")
    reportability_reason = data_text(ctx, "reportability_reason", 4000)
    product_problem = data_yes_no(ctx, "is_product_problem")
    investigation = record.investigation_required if investigation is None else investigation
    no_investigation_reason = no_investigation_reason or record.no_investigation_reason
    if reference is None or reference == "":
        reference = record.no_investigation_reference
    else:
        reference = complaint_by_reference(reference)
    reportable = record.is_reportable if reportable is None else reportable
    reportability_reason = reportability_reason or record.reportability_reason
    errors = triage_errors(
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


@COMPLAINT_WORKFLOW.hook("close")
def hook_close(ctx: TransitionContext) -> None:
    apply_triage(
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
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="closed")
    # Closed as "not a product problem", it is no occurrence of one (issue 16 item 5).
    refresh_recurrence(ctx.record, fields=ctx.update_fields, status="closed")
    relink_repeats_of(ctx.record, actor=ctx.actor, status="closed")


@COMPLAINT_WORKFLOW.hook("reopen")
def hook_reopen(ctx: TransitionContext) -> None:
    # The earlier resolution and closure stay in the history; the record shows it is open again.
    ctx.set("resolved_at", None)
    ctx.set("closed_at", None)
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="investigating")
    refresh_recurrence(ctx.record, fields=ctx.update_fields, status="investigating")


@COMPLAINT_WORKFLOW.hook("reject")
def hook_reject(ctx: TransitionContext) -> None:
    schedule_next_escalation(ctx.record, fields=ctx.update_fields, now=ctx.at, status="rejected")
    # Not a complaint: it repeats nothing and nothing repeats it (issue 16 item 5).
    refresh_recurrence(ctx.record, fields=ctx.update_fields, status="rejected")
    relink_repeats_of(ctx.record, actor=ctx.actor, status="rejected")
