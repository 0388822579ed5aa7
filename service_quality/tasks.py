"""Celery tasks of service quality: thin, idempotent wrappers around the services."""

from celery import shared_task

from service_quality import evaluator


@shared_task(name="service_quality.evaluate_interactions", acks_late=True)
def evaluate_interactions(
    batch_size: int = evaluator.DEFAULT_BATCH, max_batches: int = 100
) -> dict:
    """Automatic evaluation of every new or changed interaction, batch by batch."""
    return evaluator.interactions_evaluate(batch_size=batch_size, max_batches=max_batches)
