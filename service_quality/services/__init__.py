"""Every write of the service-quality app (docs/style.md "services"): scorecards and their revisions,
sections and criteria, evaluations and their scores, automatic scores and the friction list,
coaching, transitions. Keyword-only, atomic, with the history user and reason set explicitly;
they raise the kernel's DomainErrors. The workflow hooks register when this package is imported
(service_quality/apps.py)."""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from service_quality.services.automatic import (
    _lock_auto_score,
    auto_score_confirm,
    auto_score_override,
    friction_phrase_add,
    friction_phrase_deactivate,
)
from service_quality.services.coaching import (
    FOLLOW_UP_DAYS,
    coaching_create,
    coaching_transition,
    may_coach,
)
from service_quality.services.common import (
    MAX_TEXT,
    _choice,
    _int,
    _require_scorecard_manager,
    _text,
    workflow_transition,
)
from service_quality.services.evaluations import (
    _evaluator,
    evaluation_answers,
    evaluation_compute,
    evaluation_create,
    evaluation_score,
    evaluation_transition,
    evaluators,
)
from service_quality.services.scorecards import (
    MAX_PHRASES,
    SCORECARD_EDITABLE,
    _criterion_values,
    _lock_draft,
    criterion_add,
    criterion_update,
    scorecard_create,
    scorecard_new_revision,
    scorecard_supersede_previous,
    scorecard_transition,
    scorecard_update,
    section_add,
)
from service_quality.services.workflow_hooks import (
    hook_acknowledge,
    hook_compute_score,
    hook_dispute,
    hook_put_in_force,
    hook_rescore,
    hook_submit,
)
