from django.apps import AppConfig


class CapaConfig(AppConfig):
    name = "capa"
    verbose_name = "CAPA"

    def ready(self):
        # The services register the CAPA workflows' hooks (qms/workflow.py).
        from capa import services  # noqa: F401
        from capa.models import Capa
        from capa.selectors import capa_dossier_sections
        from qms.extensions import register_dossier_sections

        register_dossier_sections(Capa, capa_dossier_sections)  # its audit dossier's own sections
