from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Assessments and value gaps")

    def ready(self):
        from assessments import signals
        from core.signals import organization_created

        organization_created.connect(signals.give_default_framework, dispatch_uid="assessments.give_default_framework")
