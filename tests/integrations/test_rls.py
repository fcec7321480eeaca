"""API keys, idempotency and the webhook outbox under PostgreSQL row-level security (the app role)."""

from core import rls
from core.events import EVENT_TYPES, event_emit
from integrations import selectors
from integrations.models import WebhookDelivery
from integrations.tasks import webhooks_deliver_due
from tests.factories.integrations import WebhookSubscriptionFactory


def test_keys_authenticate_and_stay_in_their_organization_under_rls(
    app_role, organization, other_organization, api_key_for, key_client, settings
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    _key, plaintext = api_key_for(organization, scopes=["webhooks:write"])
    WebhookSubscriptionFactory(organization=other_organization)
    client = key_client(plaintext)
    with app_role():
        listed = client.get("/api/v1/orgs/hanbit/webhook-subscriptions/")
        created = client.post(
            "/api/v1/orgs/hanbit/webhook-subscriptions/",
            {"url": "http://127.0.0.1:9/hooks", "events": ["enrollment.created"]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="rls-1",
        )
        replayed = client.post(
            "/api/v1/orgs/hanbit/webhook-subscriptions/",
            {"url": "http://127.0.0.1:9/hooks", "events": ["enrollment.created"]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="rls-1",
        )
        foreign = client.get("/api/v1/orgs/other/webhook-subscriptions/")
    assert listed.status_code == 200 and listed.json()["results"] == []
    assert created.status_code == 201 and replayed.json() == created.json()
    assert foreign.status_code == 404


def test_events_are_recorded_and_delivered_under_rls(
    app_role, organization, other_organization, webhook_receiver, django_capture_on_commit_callbacks
):
    mine = WebhookSubscriptionFactory(organization=organization, url=webhook_receiver.url, events=list(EVENT_TYPES))
    theirs = WebhookSubscriptionFactory(
        organization=other_organization, url=webhook_receiver.url, events=list(EVENT_TYPES)
    )
    with app_role(), django_capture_on_commit_callbacks(execute=True):
        rls.activate(organization.pk)
        event_emit(organization=organization, event="check_in.created", payload={"id": 1})
        rls.activate(other_organization.pk)
        event_emit(organization=other_organization, event="check_in.created", payload={"id": 2})
        rls.deactivate()
    assert sorted(event["data"]["id"] for event in webhook_receiver.events()) == [1, 2]
    with app_role():
        rls.activate(organization.pk)
        visible = list(WebhookDelivery.objects.for_organization(other_organization).values_list("id", flat=True))
    assert visible == []  # the database wall, not only the filter
    assert {mine.pk, theirs.pk} == set(
        WebhookDelivery.objects.dangerously_all_organizations().values_list("subscription_id", flat=True)
    )


def test_the_sweeper_finds_due_deliveries_of_every_organization_under_rls(
    app_role, organization, other_organization, webhook_receiver
):
    for org in (organization, other_organization):
        subscription = WebhookSubscriptionFactory(organization=org, url=webhook_receiver.url)
        WebhookDelivery.objects.create(
            organization=org,
            subscription=subscription,
            event_id=f"msg_rls{org.pk}",
            event_type="enrollment.created",
            body="{}",
            next_attempt_at=subscription.created_at,
        )
    with app_role():
        assert len(selectors.webhook_deliveries_due()) == 2
        webhooks_deliver_due()
    assert len(webhook_receiver.requests) == 2
