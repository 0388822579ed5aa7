from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        from qms.extensions import (
            register_record_badge,
            register_release_check,
            register_roles_changed,
        )

        # Register the Celery tasks in every process (web included), so that documents'
        # release hook finds "training.assign_for_version" among the app's tasks.
        from training import tasks  # noqa: F401
        from training.services import assign_for_user, release_gate_check
        from training.templatetags.training_tags import gate_progress_badge, training_flag

        # A user who joins a role or job function gets the training it requires (qms.extensions).
        register_roles_changed(assign_for_user)
        # The "training overdue" flag beside a person, the release gate's progress on a document
        # version, and the gate itself (docs/decisions/0026), into the kernel's registries:
        # complaints and documents, below training, do not import training.
        register_record_badge("person", training_flag)
        register_record_badge("document_version", gate_progress_badge)
        register_release_check(release_gate_check)
