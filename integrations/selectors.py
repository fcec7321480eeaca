"""Reads of the integrations app. Tenant reads take the organization explicitly."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.models import Membership, Organization
from integrations.models import ApiKey, IdempotencyRecord, WebhookAttempt, WebhookDelivery, WebhookSubscription

API_KEY_PREFIX = "ck_"


def secret_hash(secret: str) -> str:
    # The secret is 256 random bits: a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_split(token: str) -> tuple[str, str] | None:
    """``ck_<prefix>_<secret>`` → (prefix, secret), or None for anything else."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix, secret


def api_key_for_token(*, token: str) -> ApiKey | None:
    """The key a bearer token names, if its secret matches (revoked and expired keys included).

    Looked up across organizations on purpose: the token is what tells us the
    organization. The caller checks that it matches the organization of the URL.
    """
    parts = api_key_split(token)
    if parts is None:
        return None
    prefix, secret = parts
    key = (
        ApiKey.objects.dangerously_all_organizations()
        .select_related("organization", "service_user")
        .filter(prefix=prefix)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash(secret)):
        return None
    return key


def api_keys(*, organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.for_organization(organization).select_related("created_by")


def api_key_prefix_taken(*, prefix: str) -> bool:
    return ApiKey.objects.dangerously_all_organizations().filter(prefix=prefix).exists()


def idempotency_record_get(*, organization: Organization, principal: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.for_organization(organization).filter(principal=principal, key=key).first()


def webhook_subscriptions(*, organization: Organization) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.for_organization(organization)


def webhook_subscriptions_for_event(*, organization: Organization, event: str) -> list[WebhookSubscription]:
    # A handful of subscriptions per organization: filtering the JSON list in Python
    # works the same on SQLite and PostgreSQL.
    candidates = webhook_subscriptions(organization=organization).filter(is_active=True, archived_at__isnull=True)
    return [subscription for subscription in candidates if subscription.wants(event)]


def webhook_deliveries(*, organization: Organization) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.for_organization(organization).select_related("subscription")


def webhook_attempts(*, organization: Organization) -> QuerySet[WebhookAttempt]:
    return WebhookAttempt.objects.for_organization(organization)


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[tuple[int, int]]:
    """(organization_id, delivery_id) of pending deliveries whose time has come, all organizations.

    For the periodic sweeper only: it hands each pair to a task that re-fetches the
    delivery within its organization.
    """
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.dangerously_all_organizations()
        .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("organization_id", "id")[:limit]
    )


def organization_admin_emails(*, organization: Organization) -> list[str]:
    """Whom to tell about integration trouble: the organization's program managers and owners."""
    memberships = (
        Membership.objects.for_organization(organization)
        .filter(role__gte=Membership.Role.PROGRAM_MANAGER, user__is_active=True)
        .select_related("user")
        .order_by("id")
    )
    return [membership.user.email for membership in memberships]
