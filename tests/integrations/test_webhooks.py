"""Webhooks: signed per Standard Webhooks, delivered once from the outbox, retried, never to private networks."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.events import EVENT_TYPES, event_emit
from integrations import services
from integrations.http import url_refusal_reason
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.tasks import webhooks_deliver_due
from tests.factories.integrations import WebhookDeliveryFactory, WebhookSubscriptionFactory

NEUTRAL = "The URL's host is not allowed."


@pytest.fixture
def subscription(organization, webhook_receiver):
    return services.webhook_subscription_create(
        organization=organization, url=webhook_receiver.url, events=list(EVENT_TYPES), description="CRM"
    )


def emit(organization, event="enrollment.created", payload=None, *, capture):
    with capture(execute=True):
        event_emit(organization=organization, event=event, payload=payload or {"id": 7, "run": 3})


def deliveries(organization):
    return WebhookDelivery.objects.for_organization(organization)


def test_a_delivery_verifies_with_the_official_standard_webhooks_library(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    emit(organization, payload={"id": 7, "participant": "김민준"}, capture=django_capture_on_commit_callbacks)
    [request] = webhook_receiver.requests
    verified = Webhook(subscription.secret).verify(request["body"], request["headers"])
    assert verified["type"] == "enrollment.created"
    assert verified["data"] == {"id": 7, "participant": "김민준"}
    assert request["headers"]["webhook-id"].startswith("msg_")
    assert request["headers"]["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(services.signing.secret_generate()).verify(request["body"], request["headers"])


def test_each_event_arrives_exactly_once(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    for event in EVENT_TYPES:
        emit(organization, event, {"event": event}, capture=django_capture_on_commit_callbacks)
    # The periodic sweeper and a duplicate task find nothing left to send.
    webhooks_deliver_due()
    for delivery in deliveries(organization):
        services.webhook_delivery_attempt(organization=organization, delivery_id=delivery.pk)

    received = webhook_receiver.events()
    assert sorted(event["type"] for event in received) == sorted(EVENT_TYPES)
    ids = [request["headers"]["webhook-id"] for request in webhook_receiver.requests]
    assert len(set(ids)) == len(EVENT_TYPES)
    for request in webhook_receiver.requests:
        Webhook(subscription.secret).verify(request["body"], request["headers"])
    assert set(deliveries(organization).values_list("status", flat=True)) == {WebhookDelivery.Status.SUCCEEDED}


def test_only_subscribed_events_of_the_own_organization_are_sent(
    organization, other_organization, webhook_receiver, django_capture_on_commit_callbacks
):
    services.webhook_subscription_create(
        organization=organization, url=webhook_receiver.url, events=["check_in.created"]
    )
    services.webhook_subscription_create(
        organization=other_organization, url=webhook_receiver.url, events=list(EVENT_TYPES)
    )
    emit(organization, "enrollment.created", capture=django_capture_on_commit_callbacks)
    emit(organization, "check_in.created", capture=django_capture_on_commit_callbacks)
    assert [event["type"] for event in webhook_receiver.events()] == ["check_in.created"]


def test_a_rolled_back_change_sends_nothing(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        event_emit(organization=organization, event="enrollment.created", payload={"id": 1})
        raise RuntimeError("the enrollment failed")
    assert webhook_receiver.requests == []
    assert not deliveries(organization).exists()


def test_unknown_events_are_refused(organization):
    with pytest.raises(ValueError):
        event_emit(organization=organization, event="enrollment.exploded", payload={})


def test_failures_are_retried_with_growing_delays_and_every_attempt_is_logged(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.statuses = [500, 503]
    emit(organization, capture=django_capture_on_commit_callbacks)
    delivery = deliveries(organization).get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    first_delay = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=4) < first_delay < timedelta(seconds=6)

    deliveries(organization).update(next_attempt_at=timezone.now())
    webhooks_deliver_due()
    delivery.refresh_from_db()
    second_delay = delivery.next_attempt_at - delivery.last_attempt_at
    assert second_delay > first_delay

    deliveries(organization).update(next_attempt_at=timezone.now())
    webhooks_deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    attempts = list(WebhookAttempt.objects.for_organization(organization).order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 204, True),
    ]
    assert len(attempts[0].response_body) == 2000  # truncated
    assert all(a.latency_ms >= 0 for a in attempts)
    # All three attempts carried the same webhook-id: a receiver can deduplicate.
    assert len({request["headers"]["webhook-id"] for request in webhook_receiver.requests}) == 1


def test_the_retry_schedule_spans_about_a_day_then_gives_up(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    total = sum(services.DEFAULT_RETRY_SCHEDULE)
    assert timedelta(hours=20) < timedelta(seconds=total) < timedelta(hours=36)
    webhook_receiver.statuses = [500] * (len(services.DEFAULT_RETRY_SCHEDULE) + 1)
    emit(organization, capture=django_capture_on_commit_callbacks)
    for _retry in services.DEFAULT_RETRY_SCHEDULE:
        deliveries(organization).update(next_attempt_at=timezone.now())
        webhooks_deliver_due()
    delivery = deliveries(organization).get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempt_count == len(services.DEFAULT_RETRY_SCHEDULE) + 1
    assert delivery.next_attempt_at is None


def test_an_endpoint_failing_for_days_is_disabled_and_the_managers_are_told(
    organization, program_manager, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.for_organization(organization).update(failing_since=timezone.now() - timedelta(days=6))
    webhook_receiver.statuses = [500]
    emit(organization, capture=django_capture_on_commit_callbacks)
    subscription.refresh_from_db()
    assert subscription.is_active is False and subscription.disabled_at is not None
    assert deliveries(organization).get().status == WebhookDelivery.Status.CANCELLED
    [message] = mail.outbox
    assert message.to == [program_manager.email]
    assert subscription.url in message.body
    # Nothing more is sent while it is disabled.
    emit(organization, capture=django_capture_on_commit_callbacks)
    assert len(webhook_receiver.requests) == 1


def test_a_success_ends_the_failing_streak(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.for_organization(organization).update(failing_since=timezone.now() - timedelta(days=1))
    emit(organization, capture=django_capture_on_commit_callbacks)
    subscription.refresh_from_db()
    assert subscription.failing_since is None and subscription.is_active


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.9", "192.168.0.1", "169.254.169.254", "127.0.0.1", "[::1]", "0.0.0.0", "[fe80::1]"],
)
def test_private_loopback_and_link_local_urls_are_refused(address, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    assert url_refusal_reason(f"http://{address}/hooks") == NEUTRAL


def test_public_urls_and_loopback_in_development_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    assert url_refusal_reason("https://93.184.216.34/hooks") is None
    assert url_refusal_reason("ftp://93.184.216.34/hooks") is not None
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert url_refusal_reason("http://127.0.0.1:8000/hooks") is None
    assert url_refusal_reason("http://169.254.169.254/latest") is not None


def test_the_connection_itself_is_checked_so_dns_tricks_do_not_reach_loopback(
    organization, webhook_receiver, settings, django_capture_on_commit_callbacks
):
    # Saved while allowed (or resolving elsewhere at the time); refused when sending.
    WebhookSubscriptionFactory(organization=organization, url=webhook_receiver.url.replace("127.0.0.1", "localhost"))
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    emit(organization, capture=django_capture_on_commit_callbacks)
    assert webhook_receiver.requests == []
    attempt = WebhookAttempt.objects.for_organization(organization).get()
    assert attempt.error == NEUTRAL and attempt.status_code is None and attempt.latency_ms == 0


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket tried to connect to."""
    import socket

    attempts = []
    real = socket.socket.connect

    def record(sock, address):
        attempts.append(address)
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return attempts


def test_the_attempt_log_is_the_same_for_an_open_and_a_closed_loopback_port(
    organization, webhook_receiver, settings, connects, django_capture_on_commit_callbacks
):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    closed_url = f"http://127.0.0.1:{closed_port}/hooks"
    open_port = int(webhook_receiver.url.rsplit(":", 1)[1].split("/")[0])
    open_subscription = WebhookSubscriptionFactory(organization=organization, url=webhook_receiver.url)
    closed_subscription = WebhookSubscriptionFactory(organization=organization, url=closed_url)
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    emit(organization, capture=django_capture_on_commit_callbacks)

    def logged(subscription):
        attempt = WebhookAttempt.objects.for_organization(organization).get(delivery__subscription=subscription)
        return (attempt.succeeded, attempt.status_code, attempt.latency_ms, attempt.response_body, attempt.error)

    assert logged(open_subscription) == logged(closed_subscription) == (False, None, 0, "", NEUTRAL)
    assert [address for address in connects if address[1] in (open_port, closed_port)] == []
    assert webhook_receiver.requests == []


def test_a_subscription_whose_name_rebinds_to_a_private_address_is_refused_when_delivering(
    organization, webhook_receiver, settings, monkeypatch, connects, django_capture_on_commit_callbacks
):
    import socket

    port = int(webhook_receiver.url.rsplit(":", 1)[1].split("/")[0])
    answers = iter(["93.184.216.34", "10.0.0.5", "10.0.0.5"])
    real = socket.getaddrinfo

    def tenant_dns(host, port, *args, **kwargs):
        if host != "crm.example.com":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", tenant_dns)
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    subscription = services.webhook_subscription_create(  # validated while the name is public
        organization=organization, url=f"http://crm.example.com:{port}/hooks", events=list(EVENT_TYPES)
    )
    emit(organization, capture=django_capture_on_commit_callbacks)
    attempt = WebhookAttempt.objects.for_organization(organization).get(delivery__subscription=subscription)
    assert attempt.error == NEUTRAL and attempt.status_code is None
    assert [address for address in connects if address[1] == port] == []


def test_redirects_are_not_followed(organization, subscription, webhook_receiver, django_capture_on_commit_callbacks):
    webhook_receiver.redirect_to = "http://169.254.169.254/latest/meta-data"
    emit(organization, capture=django_capture_on_commit_callbacks)
    assert len(webhook_receiver.requests) == 1
    attempt = WebhookAttempt.objects.for_organization(organization).get()
    assert attempt.status_code == 307 and attempt.succeeded is False


def test_during_a_rotation_both_secrets_sign(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    old_secret = subscription.secret
    rotated = services.webhook_secret_rotate(organization=organization, subscription=subscription)
    emit(organization, capture=django_capture_on_commit_callbacks)
    [request] = webhook_receiver.requests
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request["body"], request["headers"])
    Webhook(rotated.secret).verify(request["body"], request["headers"])

    WebhookSubscription.objects.for_organization(organization).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    emit(organization, capture=django_capture_on_commit_callbacks)
    later = webhook_receiver.requests[1]
    assert len(later["headers"]["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(later["body"], later["headers"])


def test_a_claimed_delivery_is_not_sent_twice(organization, subscription, webhook_receiver):
    delivery = WebhookDeliveryFactory(
        subscription=subscription,
        next_attempt_at=timezone.now(),
        claimed_until=timezone.now() + timedelta(minutes=1),
    )
    assert services.webhook_delivery_attempt(organization=organization, delivery_id=delivery.pk) is None
    assert webhook_receiver.requests == []


def test_a_replay_sends_the_same_event_again(
    organization, subscription, webhook_receiver, django_capture_on_commit_callbacks
):
    emit(organization, capture=django_capture_on_commit_callbacks)
    delivery = deliveries(organization).get()
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_delivery_replay(organization=organization, delivery=delivery)
    first, second = webhook_receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert json.loads(first["body"]) == json.loads(second["body"])
    assert WebhookAttempt.objects.for_organization(organization).count() == 2


def test_a_subscription_must_name_known_events_and_an_allowed_url(organization, settings):
    from django.core.exceptions import ValidationError

    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError) as refused:
        services.webhook_subscription_create(
            organization=organization, url="http://127.0.0.1/hooks", events=["enrollment.exploded"]
        )
    assert set(refused.value.message_dict) == {"url", "events"}
