from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = "Complaints"

    def ready(self):
        # The services register the complaint workflow's hooks (qms/workflow.py).
        from complaints import services  # noqa: F401
        from complaints.models import Complaint
        from complaints.selectors import complaint_dossier_sections
        from qms.extensions import register_dossier_sections

        register_dossier_sections(Complaint, complaint_dossier_sections)  # its audit dossier's own sections
