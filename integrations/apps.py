from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations: API keys and webhooks")

    def ready(self):
        from django.db.models.signals import post_delete

        from core import events, metrics
        from core.api import extensions
        from integrations import idempotency
        from integrations.models import ApiKey, WebhookDelivery
        from integrations.selectors import webhook_subscriptions_for_event
        from integrations.services import api_key_deleted, webhook_event_record

        # core's event_emit and API bases reach the webhook outbox and idempotent POSTs through
        # these registrations (core imports no app).
        events.register_event_sink(record=webhook_event_record, subscriptions=webhook_subscriptions_for_event)
        extensions.register_idempotency(
            extensions.IdempotencyHooks(
                begin=idempotency.idempotency_begin,
                finish=idempotency.idempotency_finish,
                replay=idempotency.IdempotentReplay,
                max_key_length=idempotency.MAX_KEY_LENGTH,
            )
        )

        # Keys go with their organization (CASCADE); the key's user must not outlive them active.
        post_delete.connect(api_key_deleted, sender=ApiKey, dispatch_uid="integrations.api_key_deleted")
        # Webhook deliveries still to make or given up, for Prometheus (core/metrics.py).
        status = WebhookDelivery.Status
        metrics.register_outbox(
            "webhooks", WebhookDelivery, states=[status.PENDING, status.FAILED], due_state=status.PENDING
        )
