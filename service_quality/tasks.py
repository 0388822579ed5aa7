"""Celery tasks of service quality: thin, idempotent wrappers around the services."""

from celery import shared_task

from service_quality import evaluator


@shared_task(name="service_quality.evaluate_interactions", acks_late=True)
def evaluate_interactions(
    batch_size: int = evaluator.DEFAULT_BATCH, max_batches: int = 100
) -> dict:
    """Automatic evaluation of every new or changed interaction, batch by batch."""
    return evaluator.interactions_evaluate(batch_size=batch_size, max_batches=max_batches)


@shared_task(name="service_quality.draw_samples", acks_late=True)
def draw_samples() -> int:
    """Automatic evaluation first (the draw reads its analyses), then every rule's draw and
    the follow-up evaluations of coaching whose agreed action is due."""
    from service_quality import sampling

    evaluator.interactions_evaluate()
    return sampling.samples_draw() + sampling.follow_ups_draw()


@shared_task(name="service_quality.escalate_overdue_tasks", acks_late=True)
def escalate_overdue_tasks() -> int:
    from service_quality import sampling

    return sampling.overdue_tasks_escalate()
