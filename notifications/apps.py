from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Reminders and notifications")

    def ready(self):
        from core import metrics
        from notifications.models import Notification

        status = Notification.Status
        # Reminders in every state that still needs something, for Prometheus (core/metrics.py).
        metrics.register_outbox(
            "notifications",
            Notification,
            states=[status.PENDING, status.SENDING, status.UNCERTAIN, status.FAILED],
            due_state=status.PENDING,
        )
