"""Who may do what in service quality (decision record 0030).

- Evaluators: every Quality Manager, and Quality Staff whose job function names them
  evaluators ("Evaluator", "Senior evaluator", ...). No sixth role group: an evaluator is a
  quality person with a duty, which is what a job function records.
- Reading evaluations: the person evaluated, the evaluator, the person's manager (team lead:
  `User.manager`), Quality Managers and Auditors (read-only).
- Scorecards: every reader of quality records; drafted, approved and put in force by Quality
  Managers.
"""

from qms import roles as qms_roles

EVALUATOR_JOB_WORD = "evaluator"


def is_evaluator(user) -> bool:
    if (
        not getattr(user, "is_authenticated", False)
        or not user.is_active
        or qms_roles.is_read_only(user)
    ):
        return False
    if qms_roles.has_role(user, qms_roles.MANAGER):
        return True
    return (
        qms_roles.has_role(user, qms_roles.STAFF)
        and EVALUATOR_JOB_WORD in (user.job_function or "").lower()
    )


def sees_all_evaluations(user) -> bool:
    return qms_roles.has_role(user, qms_roles.MANAGER, qms_roles.AUDITOR)


def may_manage_scorecards(user) -> bool:
    return qms_roles.has_role(user, qms_roles.MANAGER) and not qms_roles.is_read_only(user)
