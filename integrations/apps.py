from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations: API keys and webhooks")

    def ready(self):
        from django.db.models.signals import post_delete

        from integrations.models import ApiKey
        from integrations.services import api_key_deleted

        # Keys go with their organization (CASCADE); the key's user must not outlive them active.
        post_delete.connect(api_key_deleted, sender=ApiKey, dispatch_uid="integrations.api_key_deleted")
