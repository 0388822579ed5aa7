"""The workflow engine (docs/architecture.md rule 1, docs/style.md "Workflows and history").

Each app declares its state machine as a `Workflow` of `Action`s in its workflow.py; its
services call `transition()`, the only way a record's status changes. No state-machine library:
the tables are small, and django-fsm went AGPL.

One rule keeps workflow.py below services.py (no import circle, issue 21): the workflow declares
states, actions and the guards that only read the record; a side effect that needs the app's
services (a write, a notification, an SLA computation) is named as a hook, a string in the
action's `guard`, `apply` or `after_commit` (or in `hooks=`), and the services register the
function under that name with `@WORKFLOW.hook("name")`. Each app's AppConfig.ready imports its
services, so every hook is registered before the first request or task; a hook that is named
but not registered is a clear error, and tests/qms/test_import_circles.py checks them all.

    COMPLAINT_WORKFLOW = Workflow(
        states=ComplaintStatus,
        actions=[
            Action("acknowledge", sources=["new"], target="acknowledged", roles=QUALITY,
                   apply=set_acknowledged_at),
            ...
        ],
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from qms import roles as qms_roles
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from qms.history import set_history
from qms.models import Signature, Transition
from qms.signatures import signature_create, verify_signer_password


@dataclass
class TransitionContext:
    """What an action's guard, apply and after_commit hooks receive."""

    record: Any
    action: Action
    actor: Any
    reason: str
    data: dict
    from_state: str
    at: Any
    signature: Signature | None = None
    update_fields: set[str] = field(default_factory=set)

    def set(self, name: str, value) -> None:
        """Change a field of the record as part of this transition (saved with history)."""
        setattr(self.record, name, value)
        self.update_fields.add(name)


Hook = Callable[[TransitionContext], None] | str

# Every Workflow built, so that a test can check that each named hook is registered.
WORKFLOWS: list[Workflow] = []


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]
    label: str = ""
    needs_reason: bool = False
    needs_signature: bool = False
    meaning: str = ""
    # guard(ctx) raises a DomainError (IllegalTransition, ValidationFailed) when the step may
    # not be taken; apply(ctx) makes the field changes that belong to the step; after_commit(ctx)
    # enqueues side effects once the transaction has committed.
    # Each is a function, or the name of a hook that the app's services register.
    guard: Hook | None = None
    apply: Hook | None = None
    after_commit: Hook | None = None
    button_style: str = "primary"
    # Background work (a Celery sweep acting as the named system user, which holds no role)
    # may take this step too, e.g. a document version becoming effective on its date.
    system_may: bool = False
    # The meaning a signed step carries when it depends on the step's input (e.g. training
    # completed by reading or at a session): meaning_for(data) -> str. The caller may restate
    # it, never choose another (decision 0049).
    meaning_for: Callable[[dict], str] | None = None

    def signature_meaning(self, data: dict) -> str:
        return self.meaning_for(data) if self.meaning_for else self.meaning

    def __post_init__(self):
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "roles", frozenset(self.roles))
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())
        if self.needs_signature and not self.meaning:
            raise ValueError(f"signed action {self.name} needs a meaning")


class Workflow:
    def __init__(
        self, *, states, actions: Iterable[Action], status_field: str = "status", hooks: Iterable[str] = ()
    ):
        self.states = states
        self.status_field = status_field
        self.actions: dict[str, Action] = {}
        # Hook names: those the actions name, and those the workflow's own guards call
        # through run_hook(); the services register a function for each.
        self.hook_names: set[str] = set(hooks)
        self._hooks: dict[str, Callable[[TransitionContext], None]] = {}
        valid = {value for value, _label in states.choices}
        for action in actions:
            if action.name in self.actions:
                raise ValueError(f"duplicate action {action.name}")
            unknown = (set(action.sources) | {action.target}) - valid
            if unknown:
                raise ValueError(f"action {action.name} names unknown states {unknown}")
            self.actions[action.name] = action
            self.hook_names |= {h for h in (action.guard, action.apply, action.after_commit) if isinstance(h, str)}
        WORKFLOWS.append(self)

    def hook(self, name: str):
        """Decorator: the services register the function that does the hook named `name`."""

        def register(function):
            if name not in self.hook_names:
                raise ValueError(f"no action of this workflow names the hook {name!r}")
            if self._hooks.get(name, function) is not function:
                raise ValueError(f"the hook {name!r} is registered twice")
            self._hooks[name] = function
            return function

        return register

    def resolve(self, hook: Hook | None) -> Callable[[TransitionContext], None] | None:
        if not isinstance(hook, str):
            return hook
        try:
            return self._hooks[hook]
        except KeyError:
            raise ImproperlyConfigured(
                f"the workflow hook {hook!r} is not registered (the app's services register it; "
                "its AppConfig.ready imports them)"
            ) from None

    def run_hook(self, name: str, ctx: TransitionContext) -> None:
        self.resolve(name)(ctx)

    def missing_hooks(self) -> set[str]:
        return self.hook_names - set(self._hooks)

    def state_label(self, value: str) -> str:
        return dict(self.states.choices).get(value, value)

    def available(self, record, user) -> list[Action]:
        """The actions this user may try now: from the record's state, with the user's role.
        Guards are not evaluated here (they may need input such as a resolution)."""
        state = getattr(record, self.status_field)
        if qms_roles.is_read_only(user):
            return []
        user_roles = qms_roles.roles_of(user)
        return [a for a in self.actions.values() if state in a.sources and user_roles & a.roles]

    def get_action(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise IllegalTransition(f"'{name}' is not an action of this workflow.") from None


def transition(
    workflow: Workflow,
    record,
    action_name: str,
    *,
    actor,
    reason: str = "",
    password: str | None = None,
    meaning: str | None = None,
    data: dict | None = None,
):
    """Take one workflow step on `record` as `actor`; returns the updated record.

    Locks the row, checks the state, the actor's role, the reason and the guard, applies the
    step, writes status, version, history (with reason and action) and a Transition row, and a
    Signature when the action is signed, all in one transaction; side effects run on commit.
    Raises IllegalTransition (409), NotAllowed (403), ValidationFailed (400) or
    SignatureRejected (403); on any error nothing is written.
    """
    action = workflow.get_action(action_name)
    reason = (reason or "").strip()
    data = data or {}
    model = type(record)

    acting_as_system = (
        action.system_may and getattr(actor, "username", None) == settings.QMS_SYSTEM_USERNAME
    )
    if not acting_as_system and (
        qms_roles.is_read_only(actor) or not (qms_roles.roles_of(actor) & action.roles)
    ):
        raise NotAllowed(f"Your role may not {action.label.lower()} this record.")
    if action.needs_reason and not reason:
        raise ValidationFailed.on("reason", f"A reason is required to {action.label.lower()}.")
    signed_meaning = action.signature_meaning(data) if action.needs_signature else ""
    if signed_meaning and meaning and meaning.strip().casefold() != signed_meaning.casefold():
        # The signature says what the signer was shown: the step's own meaning (21 CFR 11.50,
        # decision 0049). Another one is refused, never stored and never silently replaced.
        raise ValidationFailed.on(
            "meaning", f'"{action.label}" is signed with the meaning "{signed_meaning}"; a signature cannot carry another meaning.'
        )
    if action.needs_signature:
        # A step that cannot be taken from the current state is a conflict (409) whatever the
        # password; checked first so that a stale page does not ask for a signature in vain.
        # The check under the row lock below stays the authoritative one.
        current = (
            model.objects.filter(pk=record.pk).values_list(workflow.status_field, flat=True).first()
        )
        if current is not None and current not in action.sources:
            raise IllegalTransition(
                f"Cannot {action.label.lower()} {record}: it is {workflow.state_label(current).lower()}."
            )
        # Before the transaction: a failed attempt must stay recorded after the rollback.
        verify_signer_password(actor, password)

    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=record.pk)
        from_state = getattr(locked, workflow.status_field)
        if from_state not in action.sources:
            raise IllegalTransition(
                f"Cannot {action.label.lower()} {locked}: it is {workflow.state_label(from_state).lower()}."
            )
        ctx = TransitionContext(
            record=locked,
            action=action,
            actor=actor,
            reason=reason,
            data=data,
            from_state=from_state,
            at=timezone.now(),
        )
        guard, apply, after_commit = (
            workflow.resolve(action.guard), workflow.resolve(action.apply), workflow.resolve(action.after_commit)
        )
        if guard:
            guard(ctx)
        if apply:
            apply(ctx)
        ctx.set(workflow.status_field, action.target)
        if hasattr(locked, "version"):
            ctx.set("version", locked.version + 1)
        set_history(locked, user=actor, reason=reason, action=action.name)
        locked.save(update_fields=sorted(ctx.update_fields))
        if action.needs_signature:
            ctx.signature = signature_create(
                locked, signer=actor, meaning=signed_meaning, reason=reason
            )
        Transition.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_id=locked.pk,
            action=action.name,
            from_state=from_state,
            to_state=action.target,
            actor=actor,
            reason=reason,
            at=ctx.at,
            signature=ctx.signature,
        )
        if after_commit:
            transaction.on_commit(lambda: after_commit(ctx))

    for name in ctx.update_fields:
        setattr(record, name, getattr(locked, name))
    return record


def transitions_for(record):
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("actor", "signature")
