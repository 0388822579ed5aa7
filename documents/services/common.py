"""What every write of the documents app checks first: who may change controlled documents."""

from __future__ import annotations

from qms import roles as qms_roles
from qms.errors import NotAllowed


def _require_quality(actor) -> None:
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Only Quality Staff and Quality Managers change controlled documents.")
