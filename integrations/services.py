"""Writes of the integrations app: API keys, webhook subscriptions, the webhook outbox."""

from __future__ import annotations

import json
import logging
import secrets as random_secrets
import string
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import rls
from core.events import EVENT_TYPES
from core.models import Organization, User
from core.tenancy import require_same_organization
from integrations import selectors, signing
from integrations.http import url_refusal_reason, webhook_post
from integrations.models import ApiKey, IdempotencyRecord, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.scopes import invalid_scopes

logger = logging.getLogger(__name__)

PREFIX_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 10
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most once a minute per key
# After the first try: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 28 hours in all),
# the schedule the Standard Webhooks guidance suggests.
DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_DISABLE_AFTER = timedelta(days=5)
SECRET_ROTATION_GRACE = timedelta(hours=24)


# --- API keys ---------------------------------------------------------------------


def _new_prefix() -> str:
    while True:
        prefix = "".join(random_secrets.choice(PREFIX_ALPHABET) for _i in range(PREFIX_LENGTH))
        if not selectors.api_key_prefix_taken(prefix=prefix):
            return prefix


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    created_by: User | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never shown again."""
    bad = invalid_scopes(scopes)
    if bad:
        raise ValidationError({"scopes": _("Unknown scopes: %(scopes)s") % {"scopes": ", ".join(bad)}})
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    prefix = _new_prefix()
    secret = random_secrets.token_urlsafe(32)
    service_user = User.objects.create_user(
        email=f"api-key-{prefix}@api-keys.invalid",
        password=None,  # unusable: nobody logs in as a key
        name=(_("API key: %(name)s") % {"name": name})[:150],
        language=organization.language,
    )
    key = ApiKey(
        organization=organization,
        name=name,
        prefix=prefix,
        secret_hash=selectors.secret_hash(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=created_by,
        service_user=service_user,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    key.full_clean()
    key.save()
    return key, f"{selectors.API_KEY_PREFIX}{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, organization: Organization, api_key: ApiKey, revoked_by: User | None = None) -> ApiKey:
    require_same_organization(organization, api_key=api_key)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        User.objects.filter(pk=api_key.service_user_id).update(is_active=False)
        logger.info("API key %s of %s revoked by %s", api_key.prefix, organization.slug, revoked_by)
    return api_key


def api_key_deleted(sender, instance: ApiKey, **_kwargs) -> None:
    """A deleted key (its own delete, or its organization's) leaves no usable service user behind.

    The user row stays (audit rows point at it) but can never log in or authenticate.
    """
    User.objects.filter(pk=instance.service_user_id).update(is_active=False)


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute (a write per request would be wasteful)."""
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.for_organization(api_key.organization).filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


# --- Idempotency --------------------------------------------------------------------


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete expired records of every organization (a periodic task)."""
    now = now or timezone.now()
    deleted, _details = IdempotencyRecord.objects.dangerously_all_organizations().filter(expires_at__lt=now).delete()
    return deleted


# --- Webhook subscriptions -----------------------------------------------------------


def _validate_subscription(subscription: WebhookSubscription) -> None:
    errors: dict[str, list[str]] = {}
    reason = url_refusal_reason(subscription.url or "")
    if reason:
        errors.setdefault("url", []).append(reason)
    events = subscription.events
    if not isinstance(events, list) or not events:
        errors.setdefault("events", []).append(_("Choose at least one event."))
    else:
        unknown = [str(event) for event in events if event not in EVENT_TYPES]
        if unknown:
            errors.setdefault("events", []).append(_("Unknown events: %(events)s") % {"events": ", ".join(unknown)})
    try:
        subscription.full_clean()
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_subscription_create(
    *, organization: Organization, url: str, events: list[str], description: str = ""
) -> WebhookSubscription:
    subscription = WebhookSubscription(
        organization=organization,
        url=url,
        events=sorted(set(events)) if isinstance(events, list) else events,
        description=description,
        secret=signing.secret_generate(),
    )
    _validate_subscription(subscription)
    subscription.save()
    return subscription


@transaction.atomic
def webhook_subscription_update(
    *, organization: Organization, subscription: WebhookSubscription, **changes: Any
) -> WebhookSubscription:
    """Change url, events, description or is_active. Re-activating clears the disabled state."""
    require_same_organization(organization, subscription=subscription)
    for field in ("url", "events", "description", "is_active"):
        if field in changes:
            value = changes[field]
            if field == "events" and isinstance(value, list):
                value = sorted(set(value))
            setattr(subscription, field, value)
    if subscription.is_active:
        subscription.disabled_at = None
        subscription.disabled_reason = ""
        subscription.failing_since = None
    _validate_subscription(subscription)
    subscription.save()
    return subscription


@transaction.atomic
def webhook_secret_rotate(
    *, organization: Organization, subscription: WebhookSubscription, grace: timedelta = SECRET_ROTATION_GRACE
) -> WebhookSubscription:
    """New secret now; the old one keeps signing too for ``grace``, so receivers can switch."""
    require_same_organization(organization, subscription=subscription)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + grace
    subscription.secret = signing.secret_generate()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return subscription


# --- The outbox ------------------------------------------------------------------------


def _enqueue_delivery(delivery: WebhookDelivery) -> None:
    from integrations.tasks import webhook_deliver

    rls.after_commit(partial(webhook_deliver.delay, organization_id=delivery.organization_id, delivery_id=delivery.id))


def webhook_body(*, event: str, payload: dict[str, Any], occurred_at: datetime) -> str:
    """The Standard Webhooks envelope: ``{"type", "timestamp", "data"}``."""
    envelope = {"type": event, "timestamp": occurred_at.isoformat().replace("+00:00", "Z"), "data": payload}
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


@transaction.atomic
def webhook_event_record(*, organization: Organization, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Write one outbox row per subscription that wants ``event``; send each after commit.

    Runs inside the caller's transaction: if the change that emitted the event is
    rolled back, so are its deliveries, and nothing is sent.
    """
    subscriptions = selectors.webhook_subscriptions_for_event(organization=organization, event=event)
    if not subscriptions:
        return []
    now = timezone.now()
    event_id = f"msg_{uuid.uuid4().hex}"
    body = webhook_body(event=event, payload=payload, occurred_at=now.astimezone(UTC))
    deliveries = []
    for subscription in subscriptions:
        delivery = WebhookDelivery(
            organization=organization,
            subscription=subscription,
            event_id=event_id,
            event_type=event,
            body=body,
            next_attempt_at=now,
        )
        delivery.save()
        deliveries.append(delivery)
        _enqueue_delivery(delivery)
    return deliveries


TEST_EVENT = "webhook.test"


@transaction.atomic
def webhook_test_send(*, organization: Organization, subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to one subscription, whatever events it wants.

    Lets an integrator check their receiver and signature verification before any
    real event happens. Delivered, retried and logged like any other event.
    """
    require_same_organization(organization, subscription=subscription)
    now = timezone.now()
    delivery = WebhookDelivery(
        organization=organization,
        subscription=subscription,
        event_id=f"msg_{uuid.uuid4().hex}",
        event_type=TEST_EVENT,
        body=webhook_body(
            event=TEST_EVENT,
            payload={"subscription": subscription.pk, "organization": organization.slug},
            occurred_at=now.astimezone(UTC),
        ),
        next_attempt_at=now,
    )
    delivery.save()
    _enqueue_delivery(delivery)
    return delivery


def _retry_schedule() -> tuple[int, ...]:
    return tuple(getattr(settings, "WEBHOOKS_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE))


def _claim(*, organization: Organization, delivery_id: int, now: datetime) -> bool:
    timeout = getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 10)
    claimed = (
        WebhookDelivery.objects.for_organization(organization)
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=timeout + 60))
    )
    return claimed == 1


def webhook_delivery_attempt(*, organization: Organization, delivery_id: int) -> WebhookDelivery | None:
    """Send a due delivery once and record the attempt; schedule a retry or give up.

    Not one transaction on purpose: the claim (an atomic conditional UPDATE) commits
    before the HTTP request, so a second worker, the sweeper or a duplicate task
    skips the row instead of sending it twice; the result is recorded atomically
    afterwards. Returns None when the delivery was not due or already claimed.
    """
    now = timezone.now()
    if not _claim(organization=organization, delivery_id=delivery_id, now=now):
        return None
    delivery = selectors.webhook_deliveries(organization=organization).get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.is_active or subscription.archived_at is not None:
        WebhookDelivery.objects.for_organization(organization).filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None, claimed_until=None
        )
        delivery.refresh_from_db()
        return delivery

    timestamp = int(timezone.now().timestamp())
    headers = signing.webhook_headers(
        secrets=subscription.signing_secrets(), msg_id=delivery.event_id, timestamp=timestamp, body=delivery.body
    )
    headers["user-agent"] = "CohortPlatform-Webhooks/1.0"
    result = webhook_post(url=subscription.url, body=delivery.body, headers=headers)
    return _record_attempt(organization=organization, delivery_id=delivery.pk, url=subscription.url, result=result)


@transaction.atomic
def _record_attempt(*, organization: Organization, delivery_id: int, url: str, result) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.for_organization(organization)
        .select_for_update()
        .select_related("subscription")
        .get(pk=delivery_id)
    )
    now = timezone.now()
    delivery.attempt_count += 1
    WebhookAttempt.objects.create(
        organization=organization,
        delivery=delivery,
        number=delivery.attempt_count,
        url=url,
        succeeded=result.ok,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_body=result.response_body,
        error=result.error,
    )
    delivery.last_attempt_at = now
    delivery.last_status_code = result.status_code
    delivery.claimed_until = None
    subscription = (
        WebhookSubscription.objects.for_organization(organization).select_for_update().get(pk=delivery.subscription_id)
    )
    if result.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if subscription.failing_since is not None:
            subscription.failing_since = None
            subscription.save(update_fields=["failing_since", "updated_at"])
    else:
        schedule = _retry_schedule()
        if delivery.attempt_count <= len(schedule):
            delivery.next_attempt_at = now + timedelta(seconds=schedule[delivery.attempt_count - 1])
        else:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        if subscription.failing_since is None:
            subscription.failing_since = now
            subscription.save(update_fields=["failing_since", "updated_at"])
    delivery.save()
    if not result.ok:
        disable_after = getattr(settings, "WEBHOOKS_DISABLE_AFTER", DEFAULT_DISABLE_AFTER)
        if subscription.is_active and now - subscription.failing_since >= disable_after:
            webhook_subscription_disable(
                organization=organization,
                subscription=subscription,
                reason=_("Every delivery failed for %(days)d days.") % {"days": disable_after.days},
            )
            delivery.refresh_from_db()
    return delivery


@transaction.atomic
def webhook_subscription_disable(
    *, organization: Organization, subscription: WebhookSubscription, reason: str
) -> WebhookSubscription:
    """Stop sending to a failing endpoint and tell the organization's managers by email."""
    if not subscription.is_active:
        return subscription
    subscription.is_active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = reason[:200]
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.for_organization(organization).filter(
        subscription=subscription, status=WebhookDelivery.Status.PENDING
    ).update(status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None)
    recipients = selectors.organization_admin_emails(organization=organization)
    if recipients:
        rls.after_commit(
            partial(
                _send_disabled_notice,
                organization_name=organization.name,
                language=organization.language,
                url=subscription.url,
                reason=subscription.disabled_reason,
                recipients=recipients,
            )
        )
    logger.warning("Webhook subscription %s of %s disabled: %s", subscription.pk, organization.slug, reason)
    return subscription


def _send_disabled_notice(*, organization_name: str, language: str, url: str, reason: str, recipients: list[str]):
    with translation.override(language):
        subject = _("[%(org)s] A webhook endpoint was disabled") % {"org": organization_name}
        message = _(
            "We stopped sending webhooks to %(url)s.\n\n%(reason)s\n\n"
            "Fix the endpoint, then turn the subscription back on in the admin (Integrations → "
            "Webhook subscriptions) or with the API. Deliveries that were cancelled can be replayed from "
            "the admin."
        ) % {"url": url, "reason": reason}
    send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)


@transaction.atomic
def webhook_delivery_replay(*, organization: Organization, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same webhook-id, so a receiver that already has it can ignore it)."""
    require_same_organization(organization, delivery=delivery)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.claimed_until = None
    delivery.save(update_fields=["status", "next_attempt_at", "claimed_until", "updated_at"])
    _enqueue_delivery(delivery)
    return delivery
