from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        # Register the Celery tasks in every process (web included), so that documents'
        # release hook finds "training.assign_for_version" among the app's tasks.
        from training import tasks  # noqa: F401
