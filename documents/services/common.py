"""What every write of the documents app checks first: who may change controlled documents."""

from __future__ import annotations

from qms import roles as qms_roles
from qms.errors import NotAllowed


def _require_quality(actor) -> None:
    if not qms_roles.may_act(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers change controlled documents.")
