"""Celery tasks of the training app: thin, idempotent wrappers around services."""

from celery import shared_task

from training import services


@shared_task(name="training.assign_for_version")
def assign_for_version(document_version_id: int) -> dict:
    """A version became effective: assign it to everyone who must train, close the open
    assignments on its predecessors as superseded. Running it twice creates nothing new."""
    result = services.assign_for_version(document_version_id=document_version_id)
    return {"created": result.created, "superseded": result.superseded}


@shared_task(name="training.assign_for_requirement")
def assign_for_requirement(requirement_id: int) -> int:
    from training.models import TrainingRequirement

    requirement = TrainingRequirement.objects.filter(pk=requirement_id, is_active=True).first()
    return services.assign_for_requirement(requirement=requirement) if requirement else 0


@shared_task(name="training.assign_missing")
def assign_missing() -> int:
    return services.assign_missing()


@shared_task(name="training.prepare_gated_versions")
def prepare_gated_versions() -> int:
    return services.release_gate_prepare()


@shared_task(name="training.sweep_overdue")
def sweep_overdue() -> int:
    return services.overdue_sweep()
