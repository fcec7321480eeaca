from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Organizations and people")

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers system checks)


class TenantAdminConfig(AdminConfig):
    """django.contrib.admin with the tenant-aware site as the default site."""

    default_site = "core.admin_site.TenantAdminSite"
