"""Every write of the documents app (docs/style.md "services"): keyword-only, atomic, with the actor
and the reason in history. Views, the API, tasks, the admin and the demo data call these.

By subject: register (the document entry), versions (drafts and their workflow steps), content
(text and file), approval_matrix, release (the effective-date sweep and the hooks for other
apps), notifications, periodic_review, workflow_hooks (registered on VERSION_WORKFLOW when this
package is imported, documents/apps.py).
"""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from documents.services.approval_matrix import (
    MAX_JOB_FUNCTIONS,
    RULE_FIELDS,
    _clean_job_functions,
    _clean_roles,
    _clean_rule,
    approval_rule_set,
)
from documents.services.common import _require_quality
from documents.services.content import MAX_TEXT_CHARS, _attach_upload, _clear_file, _validate_text
from documents.services.notifications import (
    _version_with_people,
    notify_approved,
    notify_effective,
    notify_rejected,
    notify_submitted,
)
from documents.services.periodic_review import (
    ESCALATE_EVERY_DAYS,
    REMIND_DAYS_BEFORE,
    _may_review,
    periodic_review_confirm,
    periodic_review_start_revision,
    qms_roles_users,
    review_reminders_sweep,
)
from documents.services.register import (
    CONTROLLED_DOCUMENT_FIELDS,
    DOCUMENT_FIELDS,
    _validate_document,
    document_create,
    document_update,
)
from documents.services.release import (
    TRAINING_TASK,
    on_version_approved,
    on_version_effective,
    versions_due_for_release,
    versions_make_due_effective,
)
from documents.services.versions import (
    VERSION_FIELDS,
    revision_label,
    version_create,
    version_transition,
    version_update,
)
from documents.services.workflow_hooks import (
    hook_after_approve,
    hook_after_make_effective,
    hook_after_reject,
    hook_after_submit,
)
from documents.workflow import VERSION_WORKFLOW
