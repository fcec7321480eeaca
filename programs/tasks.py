"""Celery tasks of programs. Each takes ids, re-fetches, calls a service."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from core.models import Organization
from programs import services


@shared_task(
    name="programs.milestones_overdue_announce_all",
    ignore_result=True,
    all_organizations_reason="find the organizations whose overdue milestones to announce",
)
def milestones_overdue_announce_all() -> int:
    organization_ids = list(Organization.objects.order_by("id").values_list("id", flat=True))
    for organization_id in organization_ids:
        milestones_overdue_announce.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(
    name="programs.milestones_overdue_announce",
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=300,  # far below the broker's visibility timeout
    max_retries=5,
)
def milestones_overdue_announce(*, organization_id: int) -> int:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    return services.milestones_overdue_announce(organization=organization)
