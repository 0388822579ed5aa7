"""The document version workflow (docs/api.md "Workflows"):

    draft --submit--> in_review --approve (signed, by the last approver)--> approved
    in_review --reject (reason)--> draft
    approved --make_effective (on/after effective_from)--> effective   (supersedes the previous one)
    effective --supersede (inside make_effective only)--> superseded
    effective --obsolete (signed, reason)--> obsolete

A submission names its reviewers and approvers (VersionSignoff rows of the round). Each reviewer
records a review (`review`, a step that keeps the version in review); each approver signs
"Approved". Every approver's signature is a workflow step of its own: `sign_approval` while
other approvers are still to sign, `approve` for the signature that completes the set, which
moves the version to approved. Callers always ask for "approve"; services.version_transition
picks the step under the row lock, so two approvers signing at once cannot both be "not last".

`make_effective` runs the RELEASE_CHECKS below before a version is released. An app above
documents adds a release gate (for example "everyone who must be trained has been trained") with
`qms.extensions.register_release_check(check)` from its AppConfig.ready: `check(version)` raises
qms.errors.IllegalTransition with a clear message.

The notifications after submit, approve, reject and release are hooks named here and registered
by documents.services (qms/workflow.py: the workflow never imports the services).
"""

from __future__ import annotations

from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.utils import timezone

from documents.models import Document, DocumentVersion, SignoffKind, VersionSignoff, VersionStatus
from documents.selectors import approval_rule_for, version_content_editor_ids
from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.extensions import release_checks
from qms.history import set_history
from qms.workflow import Action, TransitionContext, Workflow, transition

APPROVED_MEANING = "Approved"
OBSOLETE_MEANING = "Withdrawn from use"
REVIEW_CONFIRMED_MEANING = "Reviewed, no change"

# Steps that exist in the table but are never offered as buttons: services take them.
INTERNAL_ACTIONS = {"sign_approval", "supersede"}


def next_review_date(start, months: int):
    return start + relativedelta(months=months)


# ---------------------------------------------------------------- submit


def _user_ids(value) -> list[int]:
    """Reviewers/approvers as sent by a form (list of ids), the API (list or comma string)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    if not isinstance(value, list | tuple | set):
        value = [value]
    ids = []
    for item in value:
        item = getattr(item, "pk", item)
        try:
            ids.append(int(str(item).strip()))
        except (TypeError, ValueError):
            raise ValidationFailed.on("reviewers", f"'{item}' is not a user id.") from None
    return list(dict.fromkeys(ids))


def _signers(ids: list[int], field: str):
    users = list(get_user_model().objects.filter(pk__in=ids, is_active=True).prefetch_related("groups"))
    if len(users) != len(ids):
        raise ValidationFailed.on(field, "Some of the people named are unknown or inactive.")
    for user in users:
        if not qms_roles.may_act(user, *qms_roles.QUALITY):
            raise ValidationFailed.on(field, f"{user.full_name} is not Quality Staff or a Quality Manager.")
    return users


def is_eligible(user, roles, job_functions) -> bool:
    """May `user` be named under one side of an approval matrix row (roles, job functions)?"""
    if not qms_roles.may_act(user, *roles):
        return False
    if job_functions:
        return (user.job_function or "").strip().casefold() in {j.strip().casefold() for j in job_functions}
    return True


def _describe(roles, job_functions) -> str:
    text = " or ".join(roles) if roles else "nobody"
    if job_functions:
        text += f" with the job function {' or '.join(job_functions)}"
    return text


def check_signers(version: DocumentVersion, *, reviewers, approvers) -> dict[str, list[str]]:
    """Segregation of duties at submission (issue 16, ISO 13485 4.2.4): the named people must
    be eligible under the document type's approval matrix, the approvers must include the role
    the matrix requires, and nobody who changed the content may review or approve it."""
    rule = approval_rule_for(version.document.doc_type)
    type_label = rule.get_doc_type_display()
    editors = version_content_editor_ids(version)
    errors: dict[str, list[str]] = {}
    sides = (
        ("reviewers", "review", reviewers, rule.reviewer_roles, rule.reviewer_job_functions),
        ("approvers", "approve", approvers, rule.approver_roles, rule.approver_job_functions),
    )
    for field, verb, users, roles, job_functions in sides:
        for user in users:
            if user.pk == version.author_id:
                errors.setdefault(field, []).append(f"The author cannot {verb} their own version.")
            elif user.pk in editors:
                errors.setdefault(field, []).append(
                    f"{user.full_name} changed the content of this version and cannot review or approve it."
                )
            elif not is_eligible(user, roles, job_functions):
                errors.setdefault(field, []).append(
                    f"{user.full_name} may not {verb} a {type_label}: the approval matrix allows {_describe(roles, job_functions)}."
                )
    required = rule.required_approver_role
    if approvers and "approvers" not in errors and required and not any(qms_roles.has_role(u, required) for u in approvers):
        errors["approvers"] = [f"At least one approver of a {type_label} must be a {required} (approval matrix)."]
    return errors


def guard_not_an_editor(version: DocumentVersion, actor) -> None:
    """Checked again when the review or signature is given: the rule holds whatever was
    named, and for rounds submitted before the rule existed."""
    if actor.pk in version_content_editor_ids(version):
        raise NotAllowed("You changed the content of this version (as its author or an editor), so you cannot review or approve it.")


def guard_submit(ctx: TransitionContext) -> None:
    version: DocumentVersion = ctx.record
    errors: dict[str, list[str]] = {}
    if not version.has_file and not version.has_text:
        errors["content"] = ["Upload a file or write the text before submitting."]
    if version.revision_index > 1 and not version.change_summary.strip():
        errors["change_summary"] = ["Say what changed and why: required from the second revision."]
    if version.effective_from is None:
        errors["effective_from"] = ["Set the date the version should become effective."]
    elif version.effective_from < timezone.localdate():
        errors["effective_from"] = ["The effective date is in the past; choose today or later."]
    approver_ids = _user_ids(ctx.data.get("approvers"))
    reviewer_ids = _user_ids(ctx.data.get("reviewers"))
    if not approver_ids:
        errors["approvers"] = ["Name at least one approver."]
    if errors:
        raise ValidationFailed("The version cannot be submitted yet.", field_errors=errors)
    approvers = _signers(approver_ids, "approvers")
    reviewers = _signers(reviewer_ids, "reviewers")
    errors = check_signers(version, reviewers=reviewers, approvers=approvers)
    if errors:
        raise ValidationFailed("The people named may not review or approve this version.", field_errors=errors)
    ctx.data["_approvers"] = approvers
    ctx.data["_reviewers"] = reviewers


def apply_submit(ctx: TransitionContext) -> None:
    version: DocumentVersion = ctx.record
    ctx.set("review_round", version.review_round + 1)
    ctx.set("submitted_at", ctx.at)
    signoffs = [
        VersionSignoff(version=version, round=version.review_round, kind=kind, user=user, requested_at=ctx.at)
        for kind, key in ((SignoffKind.REVIEW, "_reviewers"), (SignoffKind.APPROVAL, "_approvers"))
        for user in ctx.data[key]
    ]
    for signoff in signoffs:
        set_history(signoff, user=ctx.actor, reason=ctx.reason, action="submit")
        signoff.save()


# ---------------------------------------------------------------- review and approval


def pending_signoff(version: DocumentVersion, user, kind: str) -> VersionSignoff | None:
    return (
        VersionSignoff.objects.select_for_update()
        .filter(version=version, round=version.review_round, kind=kind, user=user, completed_at__isnull=True)
        .first()
    )


def guard_review(ctx: TransitionContext) -> None:
    signoff = pending_signoff(ctx.record, ctx.actor, SignoffKind.REVIEW)
    if signoff is None:
        raise NotAllowed("You are not a reviewer of this version, or you have recorded your review already.")
    guard_not_an_editor(ctx.record, ctx.actor)
    ctx.data["_signoff"] = signoff


def complete_signoff(ctx: TransitionContext) -> None:
    signoff: VersionSignoff = ctx.data["_signoff"]
    signoff.completed_at = ctx.at
    signoff.comment = ctx.reason
    set_history(signoff, user=ctx.actor, reason=ctx.reason, action=ctx.action.name)
    signoff.save(update_fields=["completed_at", "comment"])


def _guard_approval(ctx: TransitionContext, *, last: bool) -> None:
    version: DocumentVersion = ctx.record
    signoff = pending_signoff(version, ctx.actor, SignoffKind.APPROVAL)
    if signoff is None:
        raise NotAllowed("You are not an approver of this version, or you have signed already.")
    guard_not_an_editor(version, ctx.actor)
    open_reviews = version.signoffs.filter(round=version.review_round, kind=SignoffKind.REVIEW, completed_at__isnull=True)
    if open_reviews.exists():
        names = ", ".join(s.user.full_name for s in open_reviews.select_related("user"))
        raise IllegalTransition(f"Every reviewer must record a review before approval (waiting for {names}).")
    others = version.signoffs.filter(
        round=version.review_round, kind=SignoffKind.APPROVAL, completed_at__isnull=True
    ).exclude(pk=signoff.pk)
    if others.exists() == last:
        raise IllegalTransition("Other approvers are still to sign." if last else "This is the last approval: use approve.")
    ctx.data["_signoff"] = signoff


def guard_approve(ctx: TransitionContext) -> None:
    _guard_approval(ctx, last=True)


def guard_sign_approval(ctx: TransitionContext) -> None:
    _guard_approval(ctx, last=False)


def apply_approve(ctx: TransitionContext) -> None:
    complete_signoff(ctx)
    ctx.set("approved_at", ctx.at)


def guard_reject(ctx: TransitionContext) -> None:
    version: DocumentVersion = ctx.record
    named = version.signoffs.filter(round=version.review_round, user=ctx.actor).exists()
    if not named and not qms_roles.has_role(ctx.actor, qms_roles.MANAGER):
        raise NotAllowed("Only a reviewer or approver of this version, or a Quality Manager, may reject it.")


# ---------------------------------------------------------------- release


def check_effective_date(ctx: TransitionContext) -> None:
    version: DocumentVersion = ctx.record
    if version.effective_from is None or version.effective_from > timezone.localdate():
        raise IllegalTransition(
            f"{version} becomes effective on {version.effective_from:%d %b %Y}, not before."
            if version.effective_from
            else f"{version} has no effective date."
        )


def check_registered_gates(ctx: TransitionContext) -> None:
    """The release checks other apps registered (qms.extensions), e.g. training's release gate
    (issue 6; TrainingConfig.ready registers training.services.release_gate_check)."""
    for check in release_checks():
        check(ctx.record)


# Checks every release must pass, in order. Append a gate here (see the module docstring).
RELEASE_CHECKS: list[Callable[[TransitionContext], None]] = [check_effective_date, check_registered_gates]


def guard_make_effective(ctx: TransitionContext) -> None:
    for check in RELEASE_CHECKS:
        check(ctx)


def apply_make_effective(ctx: TransitionContext) -> None:
    """Supersede the previous effective version and point the document at this one, in the
    transaction that releases it (ISO 9001 7.5.3.2: no moment with two or with none)."""
    version: DocumentVersion = ctx.record
    # Lock order: versions before the document, as every transition does (it locks its own
    # version first), so a concurrent `obsolete` of the previous version cannot deadlock us.
    previous = (
        DocumentVersion.objects.select_for_update()
        .filter(document_id=version.document_id, status=VersionStatus.EFFECTIVE)
        .exclude(pk=version.pk)
        .first()
    )
    document = Document.objects.select_for_update().get(pk=version.document_id)
    if previous is not None:
        transition(
            VERSION_WORKFLOW,
            previous,
            "supersede",
            actor=ctx.actor,
            reason=f"Superseded by revision {version.revision}. {ctx.reason}".strip(),
            data={"superseded_by": version},
        )
    ctx.set("effective_at", ctx.at)
    document.effective_version = version
    document.next_review_due = next_review_date(version.effective_from, document.review_period_months)
    document.version += 1
    set_history(document, user=ctx.actor, reason=f"Revision {version.revision} effective. {ctx.reason}".strip(), action="make_effective")
    document.save(update_fields=["effective_version", "next_review_due", "version"])


def apply_supersede(ctx: TransitionContext) -> None:
    ctx.set("superseded_at", ctx.at)
    ctx.set("superseded_by", ctx.data["superseded_by"])


def apply_obsolete(ctx: TransitionContext) -> None:
    version: DocumentVersion = ctx.record
    ctx.set("obsoleted_at", ctx.at)
    document = Document.objects.select_for_update().get(pk=version.document_id)
    if document.effective_version_id == version.pk:
        document.effective_version = None
        document.next_review_due = None
        document.version += 1
        set_history(document, user=ctx.actor, reason=ctx.reason, action="obsolete")
        document.save(update_fields=["effective_version", "next_review_due", "version"])


class VersionWorkflow(Workflow):
    def available(self, record, user) -> list[Action]:
        """The buttons for this user: the role table, narrowed to the people named on the
        version (only a pending reviewer may review, only a pending approver may approve)."""
        actions = [a for a in super().available(record, user) if a.name not in INTERNAL_ACTIONS]
        if record.status != VersionStatus.IN_REVIEW:
            return actions
        mine = {
            kind
            for kind, done in VersionSignoff.objects.filter(version=record, round=record.review_round, user=user).values_list(
                "kind", "completed_at"
            )
            if done is None
        } | ({"named"} if record.signoffs.filter(round=record.review_round, user=user).exists() else set())
        allowed = []
        for action in actions:
            if action.name == "review" and SignoffKind.REVIEW not in mine:
                continue
            if action.name == "approve" and SignoffKind.APPROVAL not in mine:
                continue
            if action.name == "reject" and "named" not in mine and not qms_roles.has_role(user, qms_roles.MANAGER):
                continue
            allowed.append(action)
        return allowed


VERSION_WORKFLOW = VersionWorkflow(
    states=VersionStatus,
    actions=[
        Action("submit", sources=["draft"], target="in_review", roles=qms_roles.QUALITY, label="Submit for review",
               guard=guard_submit, apply=apply_submit, after_commit="after_submit"),
        Action("review", sources=["in_review"], target="in_review", roles=qms_roles.QUALITY, label="Record review",
               needs_reason=True, guard=guard_review, apply=complete_signoff, button_style="secondary"),
        Action("approve", sources=["in_review"], target="approved", roles=qms_roles.QUALITY, label="Approve",
               needs_signature=True, meaning=APPROVED_MEANING, guard=guard_approve, apply=apply_approve,
               after_commit="after_approve"),
        Action("sign_approval", sources=["in_review"], target="in_review", roles=qms_roles.QUALITY, label="Approve",
               needs_signature=True, meaning=APPROVED_MEANING, guard=guard_sign_approval, apply=complete_signoff),
        Action("reject", sources=["in_review"], target="draft", roles=qms_roles.QUALITY, label="Reject",
               needs_reason=True, guard=guard_reject, after_commit="after_reject", button_style="danger"),
        Action("make_effective", sources=["approved"], target="effective", roles=qms_roles.QUALITY,
               label="Make effective", system_may=True, guard=guard_make_effective, apply=apply_make_effective,
               after_commit="after_make_effective"),
        Action("supersede", sources=["effective"], target="superseded", roles=qms_roles.QUALITY, system_may=True,
               apply=apply_supersede),
        Action("obsolete", sources=["effective"], target="obsolete", roles=frozenset({qms_roles.MANAGER}),
               label="Make obsolete", needs_reason=True, needs_signature=True, meaning=OBSOLETE_MEANING,
               apply=apply_obsolete, button_style="danger"),
    ],
)
