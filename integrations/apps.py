from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations: API keys and webhooks")

    def ready(self):
        from django.db.models.signals import post_delete

        from core import metrics
        from integrations.models import ApiKey, WebhookDelivery
        from integrations.services import api_key_deleted

        # Keys go with their organization (CASCADE); the key's user must not outlive them active.
        post_delete.connect(api_key_deleted, sender=ApiKey, dispatch_uid="integrations.api_key_deleted")
        # Webhook deliveries still to make or given up, for Prometheus (core/metrics.py).
        status = WebhookDelivery.Status
        metrics.register_outbox(
            "webhooks", WebhookDelivery, states=[status.PENDING, status.FAILED], due_state=status.PENDING
        )
