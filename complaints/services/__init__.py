"""Every write of the complaints app (docs/style.md "services.py"): views, the API, tasks, the demo
data and the admin call these; none of them writes complaint state by itself.

Deadlines are stored as columns (docs/architecture.md rule 4): `first_response_due` and
`resolution_due` when the complaint is received (recomputed when its severity or received time
changes, and when a pause ends), and `next_escalation_at`, the earliest escalation step not yet
taken, which the sweep selects with one indexed query.
"""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from complaints.services.attachments import (
    ALLOWED_UPLOADS,
    TEXT_EXTENSIONS,
    attachment_add,
    communication_add,
    sniff_upload,
)
from complaints.services.catalog import (
    NOTIFY_TARGETS,
    _require_manager,
    calendar_update,
    category_create,
    customer_create,
    customer_update,
    failure_mode_create,
    failure_mode_update,
    holiday_add,
    product_create,
    sla_policy_update,
    validate_escalation_steps,
)
from complaints.services.common import (
    CLOCK_SKEW,
    SURVEY_VALID_DAYS,
    _require_quality,
    recurrence_window_days,
)
from complaints.services.deadlines import (
    _set,
    business_calendars,
    calendar_for,
    compute_deadlines,
    end_pause,
    escalation_thresholds,
    load_calendars,
    policy_of,
    schedule_next_escalation,
    sla_policies,
    terms_calendar,
    terms_of,
)
from complaints.services.escalation import (
    RecipientResolver,
    _due_steps,
    _escalate_batch,
    _escalated,
    _escalation_notice,
    complaint_escalate,
    escalate_due_complaints,
)
from complaints.services.intake import (
    EDITABLE_FIELDS,
    TRIAGE_FIELDS,
    _check_assignee,
    _check_received_at,
    _local,
    _notify_assigned,
    complaint_create,
    complaint_submit_public,
    complaint_transition,
    complaint_update,
)
from complaints.services.recurrence import (
    RECURRENCE_KEY_PARTS,
    counts_for_recurrence,
    find_recurrence,
    recurrence_key_for,
    recurrence_key_parts,
    refresh_recurrence,
    relink_repeats_of,
)
from complaints.services.surveys import (
    SurveyState,
    _score,
    survey_answer,
    survey_by_token,
    survey_invite,
    token_digest,
)
from complaints.services.triage import (
    NO_INVESTIGATION_NEEDS_BASIS,
    REPORTABILITY_FIELDS,
    REPORTABLE_NEEDS_INVESTIGATION,
    TRIAGE_DECISION_FIELDS,
    _check_failure_mode,
    apply_triage,
    check_triage,
    complaint_by_reference,
    triage_errors,
)
from complaints.services.workflow_hooks import (
    hook_acknowledge,
    hook_close,
    hook_guard_close,
    hook_reject,
    hook_reopen,
    hook_resolve,
    hook_resume,
    hook_wait_for_customer,
)
