from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficeHoursConfig(AppConfig):
    name = "officehours"
    verbose_name = _("Office hours")

    def ready(self):
        from officehours.selectors import upcoming_bookings_for_enrollment
        from programs.extensions import register_home_part

        register_home_part("office_hours", upcoming_bookings_for_enrollment)
