from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficeHoursConfig(AppConfig):
    name = "officehours"
    verbose_name = _("Office hours")
