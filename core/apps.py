from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Organizations and people")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from core import audit, checks, rls, sso  # noqa: F401  (checks registers system checks; sso its signal)

        audit.connect()
        # migrate itself protects every table with organization_id (see core.rls).
        pre_migrate.connect(rls.on_pre_migrate, sender=self, dispatch_uid="core.rls.pre_migrate")
        post_migrate.connect(rls.on_post_migrate, sender=self, dispatch_uid="core.rls.post_migrate")


class TenantAdminConfig(AdminConfig):
    """django.contrib.admin with the tenant-aware site as the default site."""

    default_site = "core.admin_site.TenantAdminSite"

    # Admin pages that libraries register and that would show every organization's
    # people: the two-step verification devices (secrets included). Each person manages
    # their own on admin:two_factor.
    # Likewise allauth's: every person's e-mail addresses and provider accounts, and the
    # provider apps with their client secrets (set in the environment, docs/operations.md).
    UNREGISTERED = (
        "otp_totp.TOTPDevice",
        "otp_static.StaticDevice",
        "account.EmailAddress",
        "account.EmailConfirmation",
        "socialaccount.SocialApp",
        "socialaccount.SocialAccount",
        "socialaccount.SocialToken",
    )

    def ready(self) -> None:
        super().ready()  # autodiscover
        from django.apps import apps
        from django.contrib import admin

        for label in self.UNREGISTERED:
            model = apps.get_model(label)
            if admin.site.is_registered(model):
                admin.site.unregister(model)
