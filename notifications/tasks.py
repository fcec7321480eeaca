"""Celery tasks of the reminders. Each takes ids, re-fetches, calls a service.

Beat (in UTC, see ``CELERY_BEAT_SCHEDULE``) runs two fan-out tasks:

* ``notifications.plan_all_organizations`` every few minutes: one planning task per
  organization; planning is idempotent, so a second beat started by mistake only
  repeats work that creates nothing;
* ``notifications.relay_all_organizations`` every minute: one relay per organization
  with due rows; relays skip each other's rows (``SKIP LOCKED``), so a backlog of
  several batches fans out to helpers that other workers take
  (``services.relay_helpers_ring``).

Retries of the tasks themselves (a database hiccup) back off below the broker's
visibility timeout; retries of deliveries live in the outbox rows.

A worker that starts (after a crash, a deploy) rings every due relay at once
(``worker_ready``): recovery takes seconds, whatever the broker's visibility timeout
does with the messages the dead worker held.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import DatabaseError
from django.utils import timezone

from core import rls
from core.models import Organization
from core.tenancy import tenant_guard
from notifications import selectors, services

logger = logging.getLogger(__name__)

TASK_RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,  # far below Redis' visibility timeout (3600 s)
    "retry_jitter": True,
    "max_retries": 5,
}


class OwnTransactionsTask(Task):
    """Base of the relay task: no task-wide transaction; the body opens its own.

    Other tasks run in one transaction (:class:`core.rls.TenantTask`). The relay
    cannot: a message must be recorded as sent in the same moment it is sent, not when
    the whole batch ends, or a worker that dies in the middle of a batch would undo
    (and later repeat) what it already sent. The unscoped-query guard is armed as for
    every task; each of the relay's transactions sets its own row-level-security
    context (:func:`core.rls.organization_context`).
    """

    def __call__(self, *args, **kwargs):
        with tenant_guard(), rls.request_scope():
            return super().__call__(*args, **kwargs)


def _organization(organization_id: int) -> Organization | None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("organization %s is gone; nothing to do", organization_id)
    return organization


@shared_task(name="notifications.plan_all_organizations", ignore_result=True)
def plan_all_organizations() -> int:
    with tenant_guard():
        organization_ids = list(Organization.objects.order_by("id").values_list("id", flat=True))
    for organization_id in organization_ids:
        plan_organization.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(name="notifications.plan_organization", ignore_result=True, **TASK_RETRY)
def plan_organization(*, organization_id: int) -> int:
    with tenant_guard():
        organization = _organization(organization_id)
        if organization is None:
            return 0
        return services.notifications_plan(organization=organization)


@shared_task(name="notifications.relay_all_organizations", ignore_result=True)
def relay_all_organizations() -> int:
    with tenant_guard():
        organization_ids = selectors.organization_ids_with_due_notifications(
            now=timezone.now(), lease=services.sending_lease()
        )
    for organization_id in organization_ids:
        relay_organization.delay(organization_id=organization_id, fan_out=True)
    return len(organization_ids)


@shared_task(name="notifications.relay_organization", base=OwnTransactionsTask, ignore_result=True, **TASK_RETRY)
def relay_organization(*, organization_id: int, fan_out: bool = False) -> dict:
    """One batch of the organization's due rows; more due: ring the follow-up.

    ``fan_out`` (a doorbell: planning, beat, a starting worker): a backlog of more than
    the follow-up's batch also gets helpers, one relay per worker that may take one
    (``services.relay_helpers_ring``). Follow-ups and helpers do not fan out again.
    """
    organization = _organization(organization_id)
    if organization is None:
        return {}
    result = services.notification_relay(organization=organization)
    if result.more_due:
        services.ring_relay(organization_id=organization_id)
        if fan_out:
            services.relay_helpers_ring(organization=organization)
    elif result.retry_in_seconds:
        # Wake up for a retry, a probe or a lease instead of waiting for beat; the
        # countdown stays below the visibility timeout (see services.retry_delay_seconds).
        countdown = min(result.retry_in_seconds, services.broker_visibility_timeout() // 2)
        services.ring_relay(organization_id=organization_id, countdown=countdown)
    return {
        "sent": result.sent,
        "failed": result.failed,
        "cancelled": result.cancelled,
        "uncertain": result.uncertain,
        "deferred": result.deferred,
    }


@worker_ready.connect
def relay_when_a_worker_starts(sender=None, **_kwargs) -> None:
    """A (re)started worker relays what is due at once instead of waiting for beat."""
    try:
        relay_all_organizations.apply_async(retry=True, retry_policy={"max_retries": 3, "interval_start": 0.5})
    except Exception:
        logger.warning("could not ring the relays at worker start; beat will", exc_info=True)


@shared_task(name="notifications.poll_delivery_reports_all", ignore_result=True)
def poll_delivery_reports_all() -> int:
    """Beat: one report poll per organization with KakaoTalk or text messages still on their way."""
    with tenant_guard():
        organization_ids = selectors.organization_ids_awaiting_reports(since=services.report_window_start())
    for organization_id in organization_ids:
        poll_delivery_reports.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(name="notifications.poll_delivery_reports", base=OwnTransactionsTask, ignore_result=True, **TASK_RETRY)
def poll_delivery_reports(*, organization_id: int) -> dict:
    """Ask the provider what became of accepted messages; an AlimTalk not delivered falls back to SMS once."""
    organization = _organization(organization_id)
    if organization is None:
        return {}
    return services.delivery_reports_poll(organization=organization)
