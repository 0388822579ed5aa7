"""Scorecards and their revisions, sections and criteria: created and changed while a revision
is a draft; a change of an approved or in-force one is a new revision."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from qms.errors import IllegalTransition, ValidationFailed
from qms.history import set_history
from qms.references import allocate_reference
from qms.versioning import check_version, save_versioned
from qms.workflow import transition
from service_quality.models import (
    AutoRule,
    Criterion,
    InteractionKind,
    Scale,
    Scorecard,
    ScorecardSection,
)
from service_quality.services.common import (
    _choice,
    _int,
    _require_scorecard_manager,
    _text,
    workflow_transition,
)
from service_quality.workflow import SCORECARD_WORKFLOW, ScorecardStatus

MAX_PHRASES = 50


def _lock_draft(scorecard: Scorecard) -> Scorecard:
    locked = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if locked.status != ScorecardStatus.DRAFT:
        raise IllegalTransition(
            f"{locked} is {locked.get_status_display().lower()}; change it by making a new revision."
        )
    return locked


@transaction.atomic
def scorecard_create(
    *,
    actor,
    name: str,
    description: str = "",
    applies_to: str = InteractionKind.COMMUNICATION,
    pass_mark=80,
) -> Scorecard:
    _require_scorecard_manager(actor)
    scorecard = Scorecard(
        code=allocate_reference("SQC", width=3, per_year=False),
        revision=1,
        name=_text(name, "name", required=True, max_length=200),
        description=_text(description, "description"),
        applies_to=_choice(applies_to, "applies_to", InteractionKind.choices),
        pass_mark=_int(pass_mark, "pass_mark", low=0, high=100),
        created_by=actor,
    )
    set_history(scorecard, user=actor, reason="Created", action="create")
    scorecard.save()
    return scorecard


SCORECARD_EDITABLE = ("name", "description", "applies_to", "pass_mark", "change_summary")


@transaction.atomic
def scorecard_update(scorecard: Scorecard, *, actor, reason: str, version, **changes) -> Scorecard:
    _require_scorecard_manager(actor)
    reason = _text(reason, "reason", required=True)
    locked = _lock_draft(scorecard)
    check_version(locked, version)
    unknown = set(changes) - set(SCORECARD_EDITABLE)
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in changes.items():
        if name == "name":
            value = _text(value, name, required=True, max_length=200)
        elif name in ("description", "change_summary"):
            value = _text(value, name)
        elif name == "applies_to":
            value = _choice(value, name, InteractionKind.choices)
        elif name == "pass_mark":
            value = _int(value, name, low=0, high=100)
        if getattr(locked, name) != value:
            setattr(locked, name, value)
            changed.append(name)
    if changed:
        save_versioned(locked, actor=actor, reason=reason, fields=changed, action="update")
    return locked


@transaction.atomic
def section_add(scorecard: Scorecard, *, actor, title: str, position=None) -> ScorecardSection:
    _require_scorecard_manager(actor)
    locked = _lock_draft(scorecard)
    title = _text(title, "title", required=True, max_length=120)
    if locked.sections.filter(title__iexact=title).exists():
        raise ValidationFailed.on("title", "This scorecard has a section of that title already.")
    if position in (None, ""):
        position = locked.sections.count() + 1
    section = ScorecardSection(
        scorecard=locked, title=title, position=_int(position, "position", low=0, high=999)
    )
    set_history(section, user=actor, reason="Section added", action="create")
    section.save()
    return section


def _criterion_values(
    scorecard, *, section, label, guidance, scale, weight, is_critical, auto_rule, phrases, position
):
    if section is None or section.scorecard_id != scorecard.pk:
        raise ValidationFailed.on("section", "Choose a section of this scorecard.")
    if not isinstance(is_critical, bool):
        raise ValidationFailed.on("is_critical", "Say yes or no.")
    if phrases is None:
        phrases = []
    if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
        raise ValidationFailed.on("phrases", "Give the phrases as a list of text.")
    phrases = [p.strip() for p in phrases if p.strip()]
    if len(phrases) > MAX_PHRASES or any(len(p) > 200 for p in phrases):
        raise ValidationFailed.on(
            "phrases", f"At most {MAX_PHRASES} phrases of up to 200 characters."
        )
    auto_rule = _choice(auto_rule or "", "auto_rule", AutoRule.choices)
    if auto_rule == AutoRule.REQUIRED_PHRASE and not phrases:
        raise ValidationFailed.on("phrases", "A required-statement rule needs at least one phrase.")
    scale = _choice(scale, "scale", Scale.choices)
    return {
        "section": section,
        "label": _text(label, "label", required=True, max_length=200),
        "guidance": _text(guidance, "guidance"),
        "scale": scale,
        "weight": _int(weight, "weight", low=1, high=100),
        "is_critical": is_critical,
        "auto_rule": auto_rule,
        "phrases": phrases,
        "position": _int(position, "position", low=0, high=999),
    }


@transaction.atomic
def criterion_add(
    scorecard: Scorecard,
    *,
    actor,
    section,
    label: str,
    guidance: str = "",
    scale: str = Scale.YES_NO,
    weight=1,
    is_critical: bool = False,
    auto_rule: str = "",
    phrases=None,
    position=None,
) -> Criterion:
    _require_scorecard_manager(actor)
    locked = _lock_draft(scorecard)
    if position in (None, ""):
        position = locked.criteria.count() + 1
    values = _criterion_values(
        locked,
        section=section,
        label=label,
        guidance=guidance,
        scale=scale,
        weight=weight,
        is_critical=is_critical,
        auto_rule=auto_rule,
        phrases=phrases,
        position=position,
    )
    criterion = Criterion(scorecard=locked, **values)
    set_history(criterion, user=actor, reason="Criterion added", action="create")
    criterion.save()
    return criterion


@transaction.atomic
def criterion_update(criterion: Criterion, *, actor, reason: str, **changes) -> Criterion:
    _require_scorecard_manager(actor)
    reason = _text(reason, "reason", required=True)
    _lock_draft(criterion.scorecard)
    locked = Criterion.objects.select_for_update().get(pk=criterion.pk)
    current = {
        name: getattr(locked, name)
        for name in (
            "section",
            "label",
            "guidance",
            "scale",
            "weight",
            "is_critical",
            "auto_rule",
            "phrases",
            "position",
        )
    }
    unknown = set(changes) - set(current)
    if unknown:
        raise ValidationFailed(f"Not editable: {', '.join(sorted(unknown))}.")
    current.update(changes)
    values = _criterion_values(locked.scorecard, **current)
    for name, value in values.items():
        setattr(locked, name, value)
    set_history(locked, user=actor, reason=reason, action="update")
    locked.save()
    return locked


@transaction.atomic
def scorecard_new_revision(scorecard: Scorecard, *, actor, change_summary: str) -> Scorecard:
    """A change of an approved or in-force scorecard: a new draft revision, a copy of this one
    with its sections and criteria, linked to it. Evaluations keep the revision they used."""
    _require_scorecard_manager(actor)
    change_summary = _text(change_summary, "change_summary", required=True)
    source = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if source.status == ScorecardStatus.DRAFT:
        raise IllegalTransition(f"{source} is still a draft: change it directly.")
    latest = Scorecard.objects.filter(code=source.code).order_by("-revision").first()
    if latest.pk != source.pk:
        raise IllegalTransition(
            f"{source.code} has a later revision ({latest.revision}); revise that one."
        )
    revision = Scorecard(
        code=source.code,
        revision=source.revision + 1,
        name=source.name,
        description=source.description,
        applies_to=source.applies_to,
        pass_mark=source.pass_mark,
        previous_revision=source,
        change_summary=change_summary,
        created_by=actor,
    )
    set_history(revision, user=actor, reason=change_summary, action="new_revision")
    try:
        with transaction.atomic():
            revision.save()
    except IntegrityError:
        raise IllegalTransition(
            f"{source.code} already has a new revision in preparation."
        ) from None
    sections = {}
    for section in source.sections.all():
        copy = ScorecardSection(scorecard=revision, title=section.title, position=section.position)
        set_history(copy, user=actor, reason=change_summary, action="new_revision")
        copy.save()
        sections[section.pk] = copy
    for criterion in source.criteria.all():
        copy = Criterion(
            scorecard=revision,
            section=sections[criterion.section_id],
            label=criterion.label,
            guidance=criterion.guidance,
            scale=criterion.scale,
            weight=criterion.weight,
            is_critical=criterion.is_critical,
            position=criterion.position,
            auto_rule=criterion.auto_rule,
            phrases=list(criterion.phrases),
        )
        set_history(copy, user=actor, reason=change_summary, action="new_revision")
        copy.save()
    return revision


def scorecard_supersede_previous(scorecard: Scorecard, *, actor, at) -> None:
    """Called inside the put_in_force transition: the revision in force until now is superseded."""
    current = (
        Scorecard.objects.select_for_update()
        .filter(code=scorecard.code, status=ScorecardStatus.IN_FORCE)
        .exclude(pk=scorecard.pk)
        .first()
    )
    if current is not None:
        transition(
            SCORECARD_WORKFLOW,
            current,
            "supersede",
            actor=actor,
            reason=f"Superseded by revision {scorecard.revision}.",
        )


scorecard_transition = workflow_transition(SCORECARD_WORKFLOW)
