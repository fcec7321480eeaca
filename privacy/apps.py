from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Personal data and requests")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Every app's <app>/privacy.py registers its part of the export and the erasure (core/privacy.py).
        autodiscover_modules("privacy")
