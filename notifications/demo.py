"""Demo data of the reminders: settings for both organizations and today's reminders, planned now.

Planning ignores the send hour here (as a program manager's "plan now" does), so that
right after ``make run`` the worker sends them within a minute: they appear in the
console (the embedded default's email backend) and in the admin's outbox. Running it
again the same day plans nothing new.
"""

from __future__ import annotations

from collections.abc import Callable

from core import rls
from notifications import selectors, services


def seed(ctx, log: Callable[[str], None]) -> None:
    for organization in ctx.organizations:
        with rls.organization_context(organization.pk):
            current = selectors.notification_settings_for(organization=organization)
            if current.pk is None:
                services.notification_settings_update(organization=organization)
            created = services.notifications_plan(organization=organization, respect_send_window=False)
            waiting = selectors.outbox(organization=organization).filter(status="pending").count()
            log(f"reminders in {organization.name}: {created} planned now, {waiting} waiting in the outbox")
