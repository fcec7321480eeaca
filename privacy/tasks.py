"""Celery tasks of privacy: the nightly retention erasure. Each takes ids, re-fetches, calls a service."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from core.models import Organization
from privacy import services
from privacy.models import PrivacySettings


@shared_task(
    name="privacy.retention_apply_all",
    ignore_result=True,
    all_organizations_reason="find the organizations with a retention period",
)
def retention_apply_all() -> int:
    organization_ids = list(
        PrivacySettings.objects.dangerously_all_organizations()
        .filter(retention_days__isnull=False)
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
    )
    for organization_id in organization_ids:
        retention_apply.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(
    name="privacy.retention_apply",
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def retention_apply(*, organization_id: int, dry_run: bool = False) -> list[int]:
    """Erase (or list, in a dry run) the organization's participants past their retention period."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return []
    return services.retention_apply(organization=organization, dry_run=dry_run)
