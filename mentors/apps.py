from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MentorsConfig(AppConfig):
    name = "mentors"
    verbose_name = _("Mentors")

    def ready(self):
        from mentors import home
        from programs.extensions import register_home_part

        register_home_part("ratings_pending", home.participant_pending_ratings)
