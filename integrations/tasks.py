"""Celery tasks of the integrations app: deliver the webhook outbox, purge old records."""

from __future__ import annotations

from celery import shared_task

from core.models import Organization
from core.tenancy import tenant_guard


@shared_task(ignore_result=True)
def webhook_deliver(*, organization_id: int, delivery_id: int) -> None:
    """One attempt at one delivery. Retries are rows with a later ``next_attempt_at``,
    picked up by :func:`webhooks_deliver_due`, not Celery countdowns: a countdown of
    hours would outlive the broker's visibility timeout and be delivered twice.

    The task runs in one transaction (``core.rls.TenantTask``): the claim's row lock
    makes a second worker on the same delivery wait, then find it no longer due."""
    from integrations import services

    with tenant_guard():
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            return
        services.webhook_delivery_attempt(organization=organization, delivery_id=delivery_id)


@shared_task(ignore_result=True, all_organizations_reason="find due webhook deliveries of every organization")
def webhooks_deliver_due() -> int:
    """Periodic: hand every due delivery (retries, and first tries whose task was lost) to a worker."""
    from integrations import selectors

    with tenant_guard():
        due = selectors.webhook_deliveries_due()
    for organization_id, delivery_id in due:
        webhook_deliver.delay(organization_id=organization_id, delivery_id=delivery_id)
    return len(due)


@shared_task(ignore_result=True, all_organizations_reason="delete expired idempotency records")
def idempotency_records_purge() -> int:
    from integrations import services

    with tenant_guard():
        return services.idempotency_records_purge()
