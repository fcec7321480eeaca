from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Assessments and value gaps")

    def ready(self):
        from assessments import home, signals
        from core.signals import organization_created
        from programs.extensions import register_home_part

        organization_created.connect(signals.give_default_framework, dispatch_uid="assessments.give_default_framework")
        register_home_part("self_assessments", home.participant_open_self_assessments)
        register_home_part("surveys", home.participant_open_surveys)
