"""A CAPA's owner and its action owners carry the "training overdue" badge when their training
on an effective procedure is overdue (ISO 9001 7.2): the person doing the fix should be trained
on how it is done."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from capa import services
from qms import roles as qms_roles
from tests.capa.conftest import advance, make_capa, today
from tests.training.conftest import make_document, release_version
from training import services as training_services
from training.models import TrainingAssignment


def test_overdue_training_is_flagged_beside_the_owners_on_the_capa_page(
    client_for, staff, staff2, manager
):
    capa = advance(make_capa(actor=staff), "action_planning", actor=staff, verifier=staff2)
    services.action_create(
        capa,
        actor=staff,
        action_type="fix",
        description="Re-train the line",
        owner=staff2,
        due_date=today() + timedelta(days=7),
    )
    page = client_for(manager).get(capa.get_absolute_url()).content.decode()
    assert "training overdue" not in page

    sop = make_document(staff, title="Seal replacement")
    release_version(sop.versions.get(), author=staff, approver=manager, run_task=False)
    requirement = training_services.requirement_create(
        actor=staff,
        document=sop,
        role=Group.objects.get(name=qms_roles.STAFF),
        due_days=10,
        reason="Quality staff fix seals",
    )
    training_services.assign_for_requirement(requirement=requirement)
    TrainingAssignment.objects.filter(user=staff2).update(
        due_date=timezone.localdate() - timedelta(days=1)
    )

    page = client_for(manager).get(capa.get_absolute_url()).content.decode()
    assert (
        page.count("training overdue") == 1
    )  # staff2 owns the action and is late; staff (the CAPA owner) is not
    assert f"/training/assignments/?user={staff2.pk}&amp;overdue=true" in page
