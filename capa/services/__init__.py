"""Every write of the CAPA app (docs/style.md "services"): create, edit, analyse, plan, complete,
verify, transition, and the Celery sweeps' reminders, escalations and automatic reopen.
Keyword-only, atomic, with the history user and reason set explicitly."""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from capa.services.actions import (
    Progress,
    _clean_upload,
    _document_progress,
    _training_progress,
    _validate_action_fields,
    action_add_evidence,
    action_create,
    action_progress,
    action_transition,
    action_update,
    effective_revision_of,
)
from capa.services.analysis import _clean_fishbone, _clean_whys, root_cause_save
from capa.services.capas import (
    EDITABLE_CAPA_FIELDS,
    _check_containment,
    capa_create,
    capa_create_from_complaint,
    capa_initial_from_complaint,
    capa_transition,
    capa_update,
    notify_reopened,
)
from capa.services.checks import (
    check_create,
    check_record_result,
    check_set_due_date,
    check_transition,
    check_update,
)
from capa.services.common import (
    ACTION_SECOND_LEVEL_DAYS,
    EVIDENCE_TYPES,
    MAX_CAUSES_PER_CATEGORY,
    MAX_SHORT,
    MAX_TEXT,
    MAX_WHYS,
    _quality_user,
    _require_writer,
    _score,
    _text,
    default_check_due_date,
    quality_managers,
)
from capa.services.sweeps import (
    _names,
    _pending_checks,
    _record_once,
    detect_recurrences,
    escalate_overdue_actions,
    flag_recurrences_after_closure,
    recurrence_after_closure_days,
    recurrence_complaints,
    remind_due_checks,
)
from capa.services.workflow_hooks import hook_check_progress, hook_start_observation
