"""Every write of the Specimen, as a product app would do it."""

from django.db import transaction

from qms import roles as qms_roles
from qms.errors import NotAllowed, ValidationFailed
from qms.history import set_history
from qms.references import allocate_reference
from qms.versioning import check_version, save_versioned
from qms.workflow import transition
from tests.kernel_app.models import Specimen
from tests.kernel_app.workflow import SPECIMEN_WORKFLOW


def _require_writer(actor):
    if qms_roles.is_read_only(actor) or not qms_roles.has_role(actor, *qms_roles.QUALITY):
        raise NotAllowed("Your role may not change specimens.")


@transaction.atomic
def specimen_create(*, actor, title: str, summary: str = "") -> Specimen:
    _require_writer(actor)
    if not title.strip():
        raise ValidationFailed.on("title", "A title is required.")
    specimen = Specimen(reference=allocate_reference("SPC"), title=title, summary=summary, owner=actor)
    set_history(specimen, user=actor, reason="Created", action="create")
    specimen.save()
    return specimen


@transaction.atomic
def specimen_update(specimen: Specimen, *, actor, version, reason: str, **changes) -> Specimen:
    _require_writer(actor)
    locked = Specimen.objects.select_for_update().get(pk=specimen.pk)
    check_version(locked, version)
    for name, value in changes.items():
        setattr(locked, name, value)
    save_versioned(locked, actor=actor, reason=reason, fields=sorted(changes))
    return locked


def specimen_transition(specimen, action, *, actor, reason="", password=None, meaning=None, data=None):
    return transition(
        SPECIMEN_WORKFLOW, specimen, action, actor=actor, reason=reason, password=password, meaning=meaning, data=data
    )
