"""Reads of the CAPA app shared by pages, API and "My work", with their joins done once here."""

import textwrap

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.urls import reverse
from django.utils import timezone

from capa.models import (
    ActionEvidence,
    Capa,
    CapaAction,
    EffectivenessCheck,
    Escalation,
    FishboneCategory,
)
from capa.workflow import (
    EARLY_VERIFICATION_MEANING,
    OPEN_ACTION_STATES,
    OPEN_STATES,
    CapaStatus,
    CheckResult,
)
from qms import roles as qms_roles
from qms.models import Transition
from qms.mywork import WorkSection


def _step(model, actions, field: str):
    """The `field` of the record's latest transition among `actions` (one subquery; the
    transition rows say who took a business step and when, docs/style.md "Workflows and history")."""
    steps = Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"), action__in=actions
    ).annotate(
        actor_name=Coalesce(NullIf(Trim(Concat("actor__first_name", Value(" "), "actor__last_name")), Value("")), "actor__username")
    )
    return Subquery(steps.order_by("-at", "-id").values(field)[:1])


def with_completion(actions):
    """Actions with who marked them done: completed_by_id, completed_by_username and
    completed_by_name (completed_at is on the row)."""
    done = ["complete"]
    return actions.annotate(
        completed_by_id=_step(CapaAction, done, "actor_id"),
        completed_by_username=_step(CapaAction, done, "actor__username"),
        completed_by_name=_step(CapaAction, done, "actor_name"),
    )


RESULT_STEPS = ["mark_effective", "mark_effective_early", "mark_not_effective"]
EARLY_STEP = "mark_effective_early"


def with_result_step(checks):
    """Checks with the step that recorded their result (result_step: mark_effective,
    mark_effective_early or mark_not_effective) and its reason (for an early verification, the
    signed justification)."""
    return checks.annotate(
        result_step=_step(EffectivenessCheck, RESULT_STEPS, "action"),
        result_reason=_step(EffectivenessCheck, RESULT_STEPS, "reason"),
    )


def verified_early():
    """Exists: one of the CAPA's checks was declared effective by an early verification."""
    checks = EffectivenessCheck.objects.filter(capa=OuterRef(OuterRef("pk"))).values("pk")
    return Exists(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(EffectivenessCheck), action=EARLY_STEP, object_id__in=checks
        )
    )


def check_result_rows(capa) -> list[list[str]]:
    """The CAPA's checks as the dossier lists them: how each result was reached."""
    from qms.audit.display import format_datetime

    rows = []
    for check in with_result_step(capa.checks.select_related("verifier", "verified_by")).order_by("created_at", "id"):
        if check.result_step == EARLY_STEP:
            basis = f"{EARLY_VERIFICATION_MEANING} (signed by {check.verified_by.full_name}): {check.result_reason}"
        elif check.result_step:
            basis = "After the observation window" if check.result == CheckResult.EFFECTIVE else "Not effective: " + (check.result_reason or "")
        else:
            basis = ""
        rows.append(
            [
                check.criteria,
                check.verifier.full_name,
                f"{check.due_date:%d %b %Y}" if check.due_date else "90 days after implementation",
                check.get_result_display(),
                f"{check.verified_by.full_name}, {format_datetime(check.verified_at)}" if check.verified_at else "",
                basis,
            ]
        )
    return rows


def capa_list_for_user(user):
    """Every CAPA a reader may see (quality roles and auditors read all), with the counts the
    list shows, in one query."""
    if not qms_roles.has_role(user, *qms_roles.READERS):
        return Capa.objects.none()
    open_actions = Q(actions__status__in=OPEN_ACTION_STATES)
    return (
        Capa.objects.select_related("owner")
        .annotate(
            action_count=Count("actions", distinct=True),
            open_action_count=Count("actions", filter=open_actions, distinct=True),
            complaint_count=Count("complaints", distinct=True),
            is_verified_early=verified_early(),
        )
        .order_by("-created_at", "-id")
    )


def capa_get(pk):
    """A CAPA with everything its page shows, in a fixed number of queries."""
    from complaints.models import Complaint

    evidence = Prefetch("evidence_files", queryset=ActionEvidence.objects.select_related("uploaded_by"))
    actions = Prefetch(
        "actions",
        queryset=with_completion(CapaAction.objects.select_related("owner", "document", "document__effective_version", "role")).prefetch_related(evidence),
    )
    checks = Prefetch("checks", queryset=with_result_step(EffectivenessCheck.objects.select_related("verifier", "verified_by")))
    escalations = Prefetch("escalations", queryset=Escalation.objects.select_related("action", "check_record"))
    complaints = Prefetch("complaints", queryset=Complaint.objects.select_related("product", "category"))
    return (
        Capa.objects.select_related("owner", "created_by", "containment_by", "root_cause", "root_cause__analysed_by")
        .annotate(is_verified_early=verified_early())
        .prefetch_related(actions, checks, escalations, complaints)
        .get(pk=pk)
    )


def capa_action_list(capa):
    evidence = Prefetch("evidence_files", queryset=ActionEvidence.objects.select_related("uploaded_by"))
    return (
        with_completion(capa.actions.select_related("capa", "owner", "document", "document__effective_version", "role"))
        .prefetch_related(evidence)
        .order_by("number")
    )


def capa_check_list(capa):
    return with_result_step(capa.checks.select_related("capa", "verifier", "verified_by")).order_by("created_at", "id")


def my_work(user) -> list[WorkSection]:
    """"My work": my open CAPA actions, the checks I verify, and the CAPAs I own."""
    if not qms_roles.has_role(user, *qms_roles.QUALITY):
        return []
    actions = list(
        CapaAction.objects.filter(owner=user, status__in=OPEN_ACTION_STATES, capa__status__in=OPEN_STATES)
        .select_related("capa")
        .order_by("due_date", "id")[:10]
    )
    today = timezone.localdate()
    # One query for three sections (issue 18 item 3 added the third within the 12-query budget
    # of My work): the CAPAs I own, the CAPAs with an effectiveness check I verify (the earliest
    # due of my pending checks rides along as annotations), and, for a Quality Manager, the CAPAs
    # waiting for a closure signature. Split in Python.
    is_signer = qms_roles.has_role(user, qms_roles.MANAGER)
    pending = EffectivenessCheck.objects.filter(capa=OuterRef("pk"), result=CheckResult.PENDING)
    mine = pending.filter(verifier=user).order_by(F("due_date").asc(nulls_last=True), "id")
    awaiting_closure = (
        Q(status=CapaStatus.EFFECTIVENESS_CHECK)
        & ~Exists(pending)
        & Exists(EffectivenessCheck.objects.filter(capa=OuterRef("pk"), result=CheckResult.EFFECTIVE))
    )
    to_verify = Q(status=CapaStatus.EFFECTIVENESS_CHECK) & Exists(mine)
    wanted = Q(owner=user, status__in=OPEN_STATES) | to_verify | (awaiting_closure if is_signer else Q(pk__in=[]))
    rows = list(
        Capa.objects.filter(wanted)
        .annotate(
            is_awaiting_closure=ExpressionWrapper(awaiting_closure, output_field=BooleanField()),
            my_check_id=Subquery(mine.values("id")[:1]),
            my_check_due=Subquery(mine.values("due_date")[:1]),
            my_check_criteria=Subquery(mine.values("criteria")[:1]),
        )
        .order_by("due_date", "id")[:40]
    )
    capas = [c for c in rows if c.owner_id == user.pk and c.status in OPEN_STATES][:10]
    to_sign = [c for c in rows if is_signer and c.is_awaiting_closure][:10]
    checks = sorted(
        (
            EffectivenessCheck(pk=c.my_check_id, capa=c, criteria=c.my_check_criteria, due_date=c.my_check_due)
            for c in rows
            if c.my_check_id is not None and c.status == CapaStatus.EFFECTIVENESS_CHECK
        ),
        key=lambda check: (check.due_date is None, check.due_date or today, check.pk),
    )[:10]
    list_url = reverse("capa:list")
    return [
        WorkSection(
            title="My CAPA actions",
            template="capa/_mywork_actions.html",
            items=[{"action": a, "overdue": a.due_date < today} for a in actions],
            empty_text="No open CAPA actions are assigned to you.",
        ),
        WorkSection(
            title="Effectiveness checks I verify",
            template="capa/_mywork_checks.html",
            items=[{"check": c, "overdue": c.due_date is not None and c.due_date < today} for c in checks],
            empty_text="No effectiveness check is waiting for your verdict.",
        ),
        *(
            [
                WorkSection(
                    title="CAPAs waiting for a closure signature",
                    template="capa/_mywork_capas.html",
                    items=[{"capa": c, "overdue": c.due_date < today} for c in to_sign],
                    empty_text="No CAPA waits for a closure signature.",
                )
            ]
            if is_signer
            else []
        ),
        WorkSection(
            title="CAPAs I own",
            template="capa/_mywork_capas.html",
            items=[{"capa": c, "overdue": c.due_date < today} for c in capas],
            empty_text="You own no open CAPA.",
            more_url=f"{list_url}?owner={user.pk}&open=true",
        ),
    ]


def fishbone_layout(analysis, effect: str = "") -> dict:
    """Geometry of the fishbone (Ishikawa) diagram, drawn as inline SVG on the CAPA page: the
    spine leads to the effect (the problem) on the right; three bones above and three below,
    one per category; each cause is a rib on its bone. Computed here so the template only draws."""
    width, height = 1000, 440
    spine_y = height // 2
    head_x = 800
    rib_length = 175
    bone_ends = (320, 550, 780)
    fishbone = (analysis.fishbone or {}) if analysis else {}
    bones = []
    for index, (value, label) in enumerate(FishboneCategory.choices):
        top = index < 3
        x_end = bone_ends[index % 3]
        x_start = x_end - 130
        y_start = 46 if top else height - 46
        causes = [str(c) for c in fishbone.get(value, [])]
        shown = causes[:6]
        ribs = []
        spacing = abs(spine_y - y_start) / (len(shown) + 1) if shown else 0
        for n, cause in enumerate(shown):
            fraction = (n + 1) / (len(shown) + 1)
            y = round(y_start + (spine_y - y_start) * fraction)
            x = round(x_start + (x_end - x_start) * fraction)
            # Two lines of text above the rib when there is room, else one shortened line.
            lines = textwrap.wrap(cause, width=30) or [""]
            if spacing < 34 or len(lines) == 1:
                text = lines[0] if len(lines) == 1 else cause[:29] + "…"
                lines = [text]
            else:
                lines = [lines[0], lines[1] if len(lines) == 2 else lines[1][:29] + "…"]
            ribs.append(
                {
                    "x1": x - rib_length,
                    "x2": x,
                    "y": y,
                    "lines": [{"text": line, "y": y - 4 - 13 * (len(lines) - 1 - i)} for i, line in enumerate(lines)],
                    "title": cause,
                }
            )
        bones.append(
            {
                "value": value,
                "label": label,
                "x1": x_start,
                "y1": y_start,
                "x2": x_end,
                "y2": spine_y,
                "label_x": x_start,
                "label_y": y_start - 12 if top else y_start + 22,
                "ribs": ribs,
                "more": len(causes) - len(shown),
                "empty_y": round((y_start + spine_y) / 2),
                "empty_x": round((x_start + x_end) / 2) - 10,
            }
        )
    head_lines = textwrap.wrap(effect or "Problem", width=21)[:5]
    line_height = 16
    first_y = spine_y - (len(head_lines) - 1) * line_height / 2 + 4
    return {
        "width": width,
        "height": height,
        "spine_y": spine_y,
        "spine_x1": 40,
        "head_x": head_x,
        "head_width": width - head_x - 12,
        "head_top": spine_y - 60,
        "head_height": 120,
        "head_text_x": head_x + (width - head_x - 12) / 2,
        "head_lines": [{"text": line, "y": round(first_y + i * line_height)} for i, line in enumerate(head_lines)],
        "bones": bones,
    }


def capa_dossier_sections(capa) -> list[dict]:
    """The audit dossier's own section (qms.audit.exports): every effectiveness check and
    how its result was reached, an early verification shown as such with its justification.
    Registered into qms.extensions by CapaConfig.ready."""
    return [
        {
            "title": "Effectiveness checks",
            "columns": ["Criteria", "Verifier", "Window ends", "Result", "Recorded by", "Basis"],
            "rows": check_result_rows(capa),
            "empty": "No effectiveness check planned.",
        }
    ]
