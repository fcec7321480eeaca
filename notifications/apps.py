from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Reminders and notifications")

    def ready(self):
        from assessments.extensions import register_survey_annotator
        from core import metrics
        from core.signals import messages_due
        from notifications import selectors, services
        from notifications.models import Notification
        from programs import extensions

        status = Notification.Status
        # Reminders in every state that still needs something, for Prometheus (core/metrics.py).
        metrics.register_outbox(
            "notifications",
            Notification,
            states=[status.PENDING, status.SENDING, status.UNCERTAIN, status.FAILED],
            due_state=status.PENDING,
        )
        # Writes elsewhere that make a message due at once ring the planner (after the commit).
        messages_due.connect(_plan_soon, dispatch_uid="notifications.plan_soon")
        extensions.register_lost_link_sender(services.lost_link_send)
        # The outbox's state, shown on the run dashboard where the PM looks.
        extensions.register_dashboard_part("delivery", selectors.delivery_health)
        # Who was invited to a survey (the outbox knows), beside who answered.
        register_survey_annotator(selectors.with_survey_response_rates)


def _plan_soon(sender, *, organization, **kwargs) -> None:
    from notifications.services import notifications_plan_soon

    notifications_plan_soon(organization=organization)
