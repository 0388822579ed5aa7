"""Hand-offs (issue 18 item 3): every state in which a record waits for someone puts it on that
person's "My work", tells them once (in-app and e-mail through the outbox), and the record page
says who must act next.

The kernel keeps the mechanism; each app fills the registry in its own `handoffs.py` (imported
at start-up by qms.apps) with one function per model: `waiting_for(record, known) -> Handoff | None`,
where `known` is what the page has loaded already (its template context), so that saying who
must act costs the page no query it has made before.
Services call `announce()` in the transaction that puts the record in the waiting state; the
in-app row and the outbox e-mail are written there, and delivered on commit by notifications.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from qms.models import HandoffNotice
from qms.notifications import notify


@dataclass(frozen=True)
class Handoff:
    """Who must act next on a record, and what they must do ("sign the closure")."""

    what: str
    people: list = field(default_factory=list)
    group: str = ""  # when anyone of a role may act: "Quality Managers"

    @property
    def names(self) -> str:
        names = [user.get_full_name() or user.get_username() for user in self.people]
        return ", ".join(names) or self.group or "nobody (assign someone)"


WaitingFor = Callable[[object, dict], "Handoff | None"]
REGISTRY: dict[str, WaitingFor] = {}


def register(model_label: str):
    """Decorator for an app's `waiting_for(record)`: `@register("capa.capa")`."""

    def decorate(function: WaitingFor) -> WaitingFor:
        REGISTRY[model_label.lower()] = function
        return function

    return decorate


def waiting_for(record, known: dict | None = None) -> Handoff | None:
    function = REGISTRY.get(record._meta.label_lower)
    return function(record, known or {}) if function is not None else None


def announce(
    record, *, state: str, recipients: Iterable, subject: str, body: str = "", url: str = ""
) -> bool:
    """Tell `recipients` that `record` now waits for them in `state`, once per (record, state):
    True when told now, False when this hand-off was announced before. Runs in the caller's
    transaction (a savepoint around the ledger row), so a rolled-back change tells nobody."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("announce() runs inside the transaction that makes the hand-off")
    try:
        with transaction.atomic():
            HandoffNotice.objects.create(
                record_label=record._meta.label_lower, record_id=record.pk, state=state
            )
    except IntegrityError:
        return False
    notify(recipients, subject=subject, body=body, url=url or record.get_absolute_url())
    return True
