"""The CAPA state machines (docs/api.md "Workflows"; ISO 9001 10.2, ISO 13485 8.5.2, 21 CFR 820.100).

Three small workflows on the kernel's engine:
- the CAPA itself: open -> investigation -> action_planning -> implementation ->
  effectiveness_check -> closed, with reopen (not effective) and a signed cancel;
- each planned action: planned -> in_progress -> done (or cancelled);
- each effectiveness check: pending -> effective / not_effective (its `result`).

Guards read the record's own relations only, so this module imports no models; the steps
that need capa.services are hooks it names and the services register (qms/workflow.py).
"""

from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.workflow import Action, Workflow

QUALITY = qms_roles.QUALITY
MANAGERS = frozenset({qms_roles.MANAGER})
EARLY_VERIFICATION_MEANING = "Early verification"


# --- who may take a step on this record, and when --------------------------------------------
#
# Some steps depend not only on the actor's role but on who the actor is for this record (the
# named verifier, the CAPA owner, the action owner: segregation of duties, ISO 13485 8.5.2,
# 21 CFR 11.10(g)) or on the record's own dates (the effectiveness observation window). Each
# such rule is one function (record, user) -> the DomainError that refuses the step, or None.
# The step's guard raises it (NotAllowed: 403, IllegalTransition: 409), and
# DutyWorkflow.available() leaves the step out for those it refuses, so the buttons and
# `GET .../transitions/` never offer a step the server would refuse (docs/decisions/0024, 0025).


def _is_system(user) -> bool:
    return getattr(user, "username", None) == settings.QMS_SYSTEM_USERNAME


def verifier_duty(check, user):
    """Only the named verifier records a check's result; never the CAPA owner. The system user
    (the recurrence sweep) may record "not effective" (the engine allows it only that step)."""
    if _is_system(user):
        return None
    if user.pk == check.capa.owner_id:
        return NotAllowed("The CAPA owner cannot verify the effectiveness of their own CAPA.")
    if user.pk != check.verifier_id:
        return NotAllowed(
            f"Only the named verifier ({check.verifier.full_name}) records this check's result; "
            "change the verifier first (an edit with a reason)."
        )
    return None


def observation_over(check) -> bool:
    """The observation window ends on the check's due date: from that day on, the result may
    be recorded (the verifier is reminded that morning)."""
    return check.due_date is not None and timezone.localdate() >= check.due_date


def window_over_rule(check, user):
    if observation_over(check):
        return None
    ends = f"ends on {check.due_date:%d %b %Y}" if check.due_date else "has not started (the CAPA is not implemented)"
    return IllegalTransition(
        f"The observation window {ends}; the result is recorded after it. An early result needs a "
        f"Quality Manager's signed justification (\"{EARLY_VERIFICATION_MEANING}\")."
    )


def window_open_rule(check, user):
    if check.due_date is not None and observation_over(check):
        return IllegalTransition("The observation window is over: record the result as usual.")
    return None


def closer_duty(capa, user):
    """By default the closure is signed by a Quality Manager who is not the CAPA owner
    (QMS_CAPA_OWNER_MAY_CLOSE turns this off for a site that decides otherwise)."""
    if user.pk == capa.owner_id and not settings.QMS_CAPA_OWNER_MAY_CLOSE:
        return NotAllowed("The CAPA owner cannot sign its closure; another Quality Manager signs it.")
    return None


def completer_duty(action, user):
    """Only the action owner or a Quality Manager marks an action done."""
    if user.pk == action.owner_id or qms_roles.has_role(user, qms_roles.MANAGER):
        return None
    return NotAllowed(f"Only the action owner ({action.owner.full_name}) or a Quality Manager marks this action done.")


def _enforce(rules, guard: Callable | None = None) -> Callable:
    def checked(ctx):
        for rule in rules:
            error = rule(ctx.record, ctx.actor)
            if error is not None:
                raise error
        if guard is not None:
            guard(ctx)

    return checked


class DutyWorkflow(Workflow):
    """A workflow whose steps may also depend on who the actor is for the record, or on the
    record's dates: `rules` maps an action to its rule functions."""

    def __init__(self, *, rules: dict[str, tuple[Callable, ...]], **kwargs):
        super().__init__(**kwargs)
        unknown = set(rules) - set(self.actions)
        if unknown:
            raise ValueError(f"rules for unknown actions {unknown}")
        self.rules = rules

    def refusal(self, action_name: str, record, user):
        for rule in self.rules.get(action_name, ()):
            error = rule(record, user)
            if error is not None:
                return error
        return None

    def available(self, record, user) -> list[Action]:
        return [a for a in super().available(record, user) if self.refusal(a.name, record, user) is None]


class CapaStatus(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATION = "investigation", "Investigation"
    ACTION_PLANNING = "action_planning", "Action planning"
    IMPLEMENTATION = "implementation", "Implementation"
    EFFECTIVENESS_CHECK = "effectiveness_check", "Effectiveness check"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (
    CapaStatus.OPEN,
    CapaStatus.INVESTIGATION,
    CapaStatus.ACTION_PLANNING,
    CapaStatus.IMPLEMENTATION,
    CapaStatus.EFFECTIVENESS_CHECK,
)
# Where the analysis, the action plan and the checks may still be edited.
ANALYSIS_STATES = (CapaStatus.OPEN, CapaStatus.INVESTIGATION, CapaStatus.ACTION_PLANNING)
PLANNING_STATES = (CapaStatus.INVESTIGATION, CapaStatus.ACTION_PLANNING, CapaStatus.IMPLEMENTATION)
CHECK_PLANNING_STATES = (CapaStatus.ACTION_PLANNING, CapaStatus.IMPLEMENTATION, CapaStatus.EFFECTIVENESS_CHECK)


class ActionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_ACTION_STATES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class CheckResult(models.TextChoices):
    PENDING = "pending", "Pending"
    EFFECTIVE = "effective", "Effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"


# --- CAPA guards and effects -------------------------------------------------------------


def _needs_conclusion(ctx):
    analysis = getattr(ctx.record, "root_cause", None)
    if analysis is None or not analysis.conclusion.strip():
        raise IllegalTransition("Record the root-cause conclusion before planning actions.")


def _needs_an_action(ctx):
    if not ctx.record.actions.exclude(status=ActionStatus.CANCELLED).exists():
        raise IllegalTransition("Plan at least one action before implementation starts.")


def _needs_actions_done(ctx):
    actions = ctx.record.actions.exclude(status=ActionStatus.CANCELLED)
    if not actions.exists():
        raise IllegalTransition("There is no action to verify.")
    open_refs = [str(a) for a in actions.exclude(status=ActionStatus.DONE)]
    if open_refs:
        raise IllegalTransition(f"Every action must be done before verification; still open: {', '.join(open_refs)}.")
    if not ctx.record.checks.filter(result=CheckResult.PENDING).exists():
        raise IllegalTransition("Plan an effectiveness check (criteria and verifier) before verification.")


def _needs_effective_check(ctx):
    checks = ctx.record.checks.all()
    if checks.filter(result=CheckResult.PENDING).exists():
        raise IllegalTransition("An effectiveness check is still pending.")
    latest = checks.exclude(result=CheckResult.PENDING).order_by("-verified_at", "-id").first()
    if latest is None or latest.result != CheckResult.EFFECTIVE:
        raise IllegalTransition("Closing needs an effectiveness check marked effective.")


def _set_closed_at(ctx):
    ctx.set("closed_at", ctx.at)


def _needs_not_effective(ctx):
    if ctx.record.checks.filter(result=CheckResult.PENDING).exists():
        raise IllegalTransition("An effectiveness check is still pending; record its result instead.")
    latest = ctx.record.checks.exclude(result=CheckResult.PENDING).order_by("-verified_at", "-id").first()
    if latest is None or latest.result != CheckResult.NOT_EFFECTIVE:
        raise IllegalTransition("Only a CAPA whose latest effectiveness check was not effective can be reopened.")


def _on_reopen(ctx):
    ctx.set("implemented_at", None)
    ctx.set("reopen_count", ctx.record.reopen_count + 1)


CLOSE_RULES = (closer_duty,)

CAPA_WORKFLOW = DutyWorkflow(
    rules={"close": CLOSE_RULES},
    states=CapaStatus,
    actions=[
        Action("start_investigation", sources=[CapaStatus.OPEN], target=CapaStatus.INVESTIGATION, roles=QUALITY),
        Action(
            "plan_actions",
            sources=[CapaStatus.INVESTIGATION],
            target=CapaStatus.ACTION_PLANNING,
            roles=QUALITY,
            guard=_needs_conclusion,
        ),
        Action(
            "implement",
            sources=[CapaStatus.ACTION_PLANNING],
            target=CapaStatus.IMPLEMENTATION,
            roles=QUALITY,
            label="Start implementation",
            guard=_needs_an_action,
        ),
        Action(
            "verify",
            sources=[CapaStatus.IMPLEMENTATION],
            target=CapaStatus.EFFECTIVENESS_CHECK,
            roles=QUALITY,
            label="Verify effectiveness",
            guard=_needs_actions_done,
            apply="start_observation",  # capa.services: the observation window starts
        ),
        Action(
            "close",
            sources=[CapaStatus.EFFECTIVENESS_CHECK],
            target=CapaStatus.CLOSED,
            roles=MANAGERS,
            needs_signature=True,
            meaning="Approved for closure",
            guard=_enforce(CLOSE_RULES, _needs_effective_check),
            apply=_set_closed_at,
        ),
        Action(
            "reopen",
            sources=[CapaStatus.EFFECTIVENESS_CHECK],
            target=CapaStatus.ACTION_PLANNING,
            roles=QUALITY,
            needs_reason=True,
            guard=_needs_not_effective,
            apply=_on_reopen,
            button_style="secondary",
            system_may=True,  # the recurrence sweep reopens automatically
        ),
        Action(
            "cancel",
            sources=list(OPEN_STATES),
            target=CapaStatus.CANCELLED,
            roles=MANAGERS,
            needs_reason=True,
            needs_signature=True,
            meaning="Cancelled",
            button_style="danger",
        ),
    ],
)


# --- action guards -------------------------------------------------------------------------


def _capa_in(states, verb):
    def guard(ctx):
        capa = ctx.record.capa
        if capa.status not in states:
            raise IllegalTransition(f"Actions cannot be {verb} while the CAPA is {capa.get_status_display().lower()}.")

    return guard


def _complete_guard(ctx):
    _capa_in((CapaStatus.ACTION_PLANNING, CapaStatus.IMPLEMENTATION), "completed")(ctx)
    action = ctx.record
    evidence = (ctx.data.get("evidence") or "").strip() or action.evidence.strip()
    if not evidence and not action.evidence_files.exists():
        raise ValidationFailed.on("evidence", "Describe or attach the evidence that the action is done.")
    if len(evidence) > 10000:
        raise ValidationFailed.on("evidence", "Keep the evidence under 10,000 characters.")
    # Document revised / role trained, where the system can see it (capa.services).
    ACTION_WORKFLOW.run_hook("check_progress", ctx)


def _complete_apply(ctx):
    evidence = (ctx.data.get("evidence") or "").strip()
    if evidence:
        ctx.set("evidence", evidence)
    ctx.set("completed_at", ctx.at)


COMPLETE_RULES = (completer_duty,)

ACTION_WORKFLOW = DutyWorkflow(
    rules={"complete": COMPLETE_RULES},
    hooks=("check_progress",),
    states=ActionStatus,
    actions=[
        Action("start", sources=[ActionStatus.PLANNED], target=ActionStatus.IN_PROGRESS, roles=QUALITY, guard=_capa_in(PLANNING_STATES, "started")),
        Action(
            "complete",
            sources=list(OPEN_ACTION_STATES),
            target=ActionStatus.DONE,
            roles=QUALITY,
            label="Mark done",
            guard=_enforce(COMPLETE_RULES, _complete_guard),
            apply=_complete_apply,
        ),
        Action(
            "cancel",
            sources=list(OPEN_ACTION_STATES),
            target=ActionStatus.CANCELLED,
            roles=QUALITY,
            needs_reason=True,
            guard=_capa_in(PLANNING_STATES, "cancelled"),
            button_style="danger",
        ),
    ],
)


# --- effectiveness check guards --------------------------------------------------------------


def _result_guard(ctx):
    check = ctx.record
    capa = check.capa
    if capa.status != CapaStatus.EFFECTIVENESS_CHECK:
        raise IllegalTransition("A result can be recorded once the CAPA is in its effectiveness check.")
    evidence = (ctx.data.get("evidence") or "").strip()
    if not evidence:
        raise ValidationFailed.on("evidence", "Record the evidence the result is based on.")
    if len(evidence) > 10000:
        raise ValidationFailed.on("evidence", "Keep the evidence under 10,000 characters.")


def _result_apply(ctx):
    ctx.set("evidence", (ctx.data.get("evidence") or "").strip())
    ctx.set("verified_by", ctx.actor)
    ctx.set("verified_at", ctx.at)


EFFECTIVE_RULES = (verifier_duty, window_over_rule)
EARLY_RULES = (verifier_duty, window_open_rule)
NOT_EFFECTIVE_RULES = (verifier_duty,)  # a failure may be recorded as soon as it is seen

CHECK_WORKFLOW = DutyWorkflow(
    rules={"mark_effective": EFFECTIVE_RULES, "mark_effective_early": EARLY_RULES, "mark_not_effective": NOT_EFFECTIVE_RULES},
    states=CheckResult,
    status_field="result",
    actions=[
        Action(
            "mark_effective",
            sources=[CheckResult.PENDING],
            target=CheckResult.EFFECTIVE,
            roles=QUALITY,
            label="Verified effective",
            guard=_enforce(EFFECTIVE_RULES, _result_guard),
            apply=_result_apply,
        ),
        # Effective before the observation window ends (ISO 13485 8.5.2: effectiveness is
        # verified, not assumed): only a Quality Manager who is the named verifier, with a
        # written justification, signed "Early verification" (docs/decisions/0025).
        Action(
            "mark_effective_early",
            sources=[CheckResult.PENDING],
            target=CheckResult.EFFECTIVE,
            roles=MANAGERS,
            label="Verify early",
            needs_reason=True,
            needs_signature=True,
            meaning=EARLY_VERIFICATION_MEANING,
            guard=_enforce(EARLY_RULES, _result_guard),
            apply=_result_apply,
            button_style="secondary",
        ),
        Action(
            "mark_not_effective",
            sources=[CheckResult.PENDING],
            target=CheckResult.NOT_EFFECTIVE,
            roles=QUALITY,
            label="Not effective",
            needs_reason=True,
            guard=_enforce(NOT_EFFECTIVE_RULES, _result_guard),
            apply=_result_apply,
            button_style="danger",
            system_may=True,  # a recurrence found by the sweep
        ),
    ],
)
