from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        from qms.extensions import register_roles_changed

        # Register the Celery tasks in every process (web included), so that documents'
        # release hook finds "training.assign_for_version" among the app's tasks.
        from training import tasks  # noqa: F401
        from training.services import assign_for_user

        # A user who joins a role or job function gets the training it requires (qms.extensions).
        register_roles_changed(assign_for_user)
