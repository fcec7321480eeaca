"""Demo data of the integrations app: a usable API key, a webhook subscription and its delivery log.

Idempotent: the key is found by its prefix, the subscription by its URL, deliveries by
their event id. The demo key is printed in the log; like the demo passwords it is for
local use only (``seed_demo`` is never run in production).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from core.demo import DemoContext
from integrations import selectors, services
from integrations.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookSubscription

COPY = {
    "ko": {
        "key": "데모: CRM 동기화",
        "subscription": "CRM 연동 (데모: URL을 실제 주소로 바꾼 뒤 켜세요)",
        "participant": "김민준",
        "answer": "처리 중 오류가 발생했습니다",
    },
    "en": {
        "key": "Demo: CRM sync",
        "subscription": "CRM sync (demo: change the URL to yours, then turn it on)",
        "participant": "Emma Clarke",
        "answer": "upstream error",
    },
}
DEMO_SCOPES = ["programs:write", "mentors:read", "assessments:read", "webhooks:write"]
DEMO_URL = "https://crm.example.com/hooks/cohort"


def _demo_key(organization, *, name: str, created_by) -> str:
    """The organization's demo key, with a fixed secret so the demo docs can use it."""
    prefix = f"demo{organization.slug.replace('-', '')[:6]}"
    secret = f"demo-secret-{organization.slug}"
    plaintext = f"{selectors.API_KEY_PREFIX}{prefix}_{secret}"
    if ApiKey.objects.for_organization(organization).filter(prefix=prefix).exists():
        return plaintext
    key, _random_plaintext = services.api_key_create(
        organization=organization, name=name, scopes=DEMO_SCOPES, created_by=created_by
    )
    ApiKey.objects.for_organization(organization).filter(pk=key.pk).update(
        prefix=prefix, secret_hash=selectors.secret_hash(secret)
    )
    return plaintext


def _demo_subscription(organization, *, description: str) -> WebhookSubscription:
    existing = WebhookSubscription.objects.for_organization(organization).filter(url=DEMO_URL).first()
    if existing is not None:
        return existing
    subscription = services.webhook_subscription_create(
        organization=organization,
        url=DEMO_URL,
        events=["enrollment.created", "enrollment.updated", "help_request.created", "help_request.answered"],
        description=description,
    )
    # Off until the organization points it at a real endpoint: demo events must not be sent.
    return services.webhook_subscription_update(organization=organization, subscription=subscription, is_active=False)


def _demo_deliveries(organization, subscription: WebhookSubscription, copy: dict) -> int:
    now = timezone.now()
    history = [
        # (event id suffix, event, hours ago, attempts as (status code, latency ms, answer))
        ("1", "enrollment.created", 50, [(200, 182, "ok")]),
        ("2", "help_request.created", 26, [(500, 2411, copy["answer"]), (502, 3120, ""), (200, 240, "ok")]),
        ("3", "enrollment.updated", 3, [(200, 95, "ok")]),
    ]
    created = 0
    for suffix, event, hours_ago, attempts in history:
        event_id = f"msg_demo{organization.pk}x{suffix}"
        if WebhookDelivery.objects.for_organization(organization).filter(event_id=event_id).exists():
            continue
        occurred = now - timedelta(hours=hours_ago)
        payload = {"enrollment": int(suffix), "participant": copy["participant"], "run": "demo"}
        delivery = WebhookDelivery.objects.create(
            organization=organization,
            subscription=subscription,
            event_id=event_id,
            event_type=event,
            body=services.webhook_body(event=event, payload=payload, occurred_at=occurred),
            status=WebhookDelivery.Status.SUCCEEDED,
            attempt_count=len(attempts),
            last_attempt_at=occurred,
            last_status_code=attempts[-1][0],
            delivered_at=occurred,
        )
        for number, (status_code, latency, answer) in enumerate(attempts, start=1):
            WebhookAttempt.objects.create(
                organization=organization,
                delivery=delivery,
                number=number,
                url=subscription.url,
                succeeded=200 <= status_code < 300,
                status_code=status_code,
                latency_ms=latency,
                response_body=answer,
            )
        created += 1
    return created


def seed(ctx: DemoContext, log: Callable[[str], None]) -> None:
    for organization, manager in ((ctx.korean_org, ctx.pm_ko), (ctx.english_org, ctx.pm_en)):
        copy = COPY["ko" if organization.language == "ko" else "en"]
        plaintext = _demo_key(organization, name=copy["key"], created_by=manager)
        subscription = _demo_subscription(organization, description=copy["subscription"])
        created = _demo_deliveries(organization, subscription, copy)
        log(f"{organization.slug}: API key {plaintext} ({', '.join(DEMO_SCOPES)}); {created} webhook deliveries added")
