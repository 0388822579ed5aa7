"""One record's history, signatures and transitions, as the record pages and the API show them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.text import capfirst

from qms.audit import registry
from qms.audit.display import (
    RelatedResolver,
    TrailEntry,
)
from qms.audit.rows import RowRequest, bulk_rows, link_related
from qms.audit.selectors.sources import HistorySource
from qms.models import SecurityEvent, Signature, Transition
from qms.signatures import content_hash, signatures_for, signed_content


def record_history(record, *, limit: int = 200, known=()) -> list[TrailEntry]:
    """One record's history entries, newest first, with readable diffs: one query for the
    newest `limit` rows (with the rows they are diffed against and their many-to-many sets),
    and one or two for the objects their changes name. The record, the objects it holds in
    its select_related caches and `known` (other rows the page has loaded) are used as they
    are, not fetched again."""
    historical = registry.historical_model_for(record._meta.label_lower)
    if historical is None:
        return []
    source = HistorySource(historical)
    newest = (
        historical._base_manager.filter(id=record.pk)
        .order_by("-history_id")
        .values("history_id")[:limit]
    )
    fetched = bulk_rows(source.row_requests(0, newest))
    ids = sorted((row.history_id for row, _ in fetched.get((0, "page"), [])), reverse=True)
    resolver = RelatedResolver()
    resolver.add_known(record, *known)
    prepared = source.prepare(fetched, 0, ids, resolver)
    resolver.resolve()
    entries = source.build(prepared, resolver)
    return [entries[hid] for hid in ids if hid in entries]


def signatures_with_checks(record) -> list:
    """The record's signatures, each told whether its hash still matches the content that was
    signed (integrity) and whether the record still has that content today."""
    return mark_signatures(record, list(signatures_for(record)))


def mark_signatures(record, signatures: list) -> list:
    """Tell each of the record's signatures whether the record still has the content signed."""
    current = content_hash(signed_content(record))
    for sig in signatures:
        sig.matches_record_now = sig.content_hash == current
    return signatures


def signatures_and_transitions(record) -> tuple[list, list]:
    """The record's signatures (marked as signatures_with_checks marks them) and workflow steps,
    oldest first, with the people who signed or acted: all in one UNION ALL query."""
    own = {"content_type": ContentType.objects.get_for_model(record), "object_id": record.pk}
    signatures = Signature.objects.filter(**own)
    transitions = Transition.objects.filter(**own)
    people = get_user_model()._base_manager.filter(
        Q(pk__in=signatures.values("signer_id")) | Q(pk__in=transitions.values("actor_id"))
    )
    fetched = bulk_rows(
        [
            RowRequest("signatures", signatures),
            RowRequest("transitions", transitions),
            RowRequest("people", people),
        ]
    )
    people_by_id = {person.pk: person for person, _extra in fetched.get("people", [])}
    signature_list = sorted(
        (row for row, _extra in fetched.get("signatures", [])), key=lambda s: (s.signed_at, s.pk)
    )
    transition_list = sorted(
        (row for row, _extra in fetched.get("transitions", [])), key=lambda t: (t.at, t.pk)
    )
    link_related(signature_list, "signer", people_by_id)
    link_related(transition_list, "actor", people_by_id)
    link_related(transition_list, "signature", {sig.pk: sig for sig in signature_list})
    return mark_signatures(record, signature_list), transition_list


def actions_for_filter() -> list[tuple[str, str]]:
    """(value, label) of the action filter: record actions, every workflow's actions (a fixed
    list: no query), signatures and security events."""
    return [
        ("created", "Created"),
        ("changed", "Changed (edit)"),
        ("deleted", "Deleted"),
        *((code, capfirst(code.replace("_", " "))) for code in registry.workflow_action_names()),
        ("signed", "Signed (electronic signature)"),
        *((code, str(label)) for code, label in SecurityEvent.Kind.choices),
    ]
