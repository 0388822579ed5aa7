"""Who must act next on a CAPA (qms.handoffs), and the closure hand-off announced to the
Quality Managers when the last effectiveness check is recorded effective (issue 18 item 3)."""

from capa.models import Capa
from capa.workflow import CapaStatus, CheckResult
from qms import roles as qms_roles
from qms.handoffs import Handoff, announce, register

CLOSURE = "awaiting_closure_signature"

_OWNER_STEP = {
    CapaStatus.OPEN: "start the investigation",
    CapaStatus.INVESTIGATION: "record the root cause and plan actions",
    CapaStatus.ACTION_PLANNING: "plan the actions and start implementation",
    CapaStatus.IMPLEMENTATION: "see the actions done, then start the effectiveness check",
}


@register("capa.capa")
def capa_waiting_for(capa: Capa, known: dict) -> Handoff | None:
    if capa.status in _OWNER_STEP:
        return Handoff(what=_OWNER_STEP[capa.status], people=[capa.owner])
    if capa.status != CapaStatus.EFFECTIVENESS_CHECK:
        return None
    checks = list(capa.checks.select_related("verifier").order_by("-verified_at", "-id"))
    pending = [check for check in checks if check.result == CheckResult.PENDING]
    if pending:
        return Handoff(
            what="record the effectiveness result",
            people=list(dict.fromkeys(c.verifier for c in pending)),
        )
    if checks and checks[0].result == CheckResult.EFFECTIVE:
        return Handoff(what="sign the closure (Closed)", group="a Quality Manager")
    return Handoff(what="plan an effectiveness check", people=[capa.owner])


def announce_closure(capa: Capa) -> bool:
    """In the transaction that recorded the last check effective: the CAPA now waits for a
    Quality Manager's closure signature. Keyed by the reopen count, so a CAPA reopened after a
    failed check is announced again when it next waits for closure."""
    return announce(
        capa,
        state=f"{CLOSURE}:{capa.reopen_count}",
        recipients=qms_roles.users_with_role(qms_roles.MANAGER),
        subject=f"{capa.reference} waits for your closure signature: {capa.title}",
        body="The effectiveness check was recorded effective. A Quality Manager signs the closure.",
    )
