"""The webhook endpoints: subscribe, rotate, read the delivery log; another organization's rows answer 404."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import WebhookSubscription
from tests.factories.integrations import WebhookDeliveryFactory, WebhookSubscriptionFactory

SUBSCRIPTIONS = "/api/v1/orgs/hanbit/webhook-subscriptions/"
DELIVERIES = "/api/v1/orgs/hanbit/webhook-deliveries/"


@pytest.fixture
def pm_client(program_manager, api_client_for):
    return api_client_for(program_manager)


def test_subscribing_shows_the_secret_once(organization, pm_client, webhook_receiver):
    created = pm_client.post(
        SUBSCRIPTIONS, {"url": webhook_receiver.url, "events": ["milestone.completed"]}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    detail = pm_client.get(f"{SUBSCRIPTIONS}{created.json()['id']}/").json()
    assert "secret" not in detail
    assert detail["events"] == ["milestone.completed"]


def test_rotating_returns_a_new_secret(organization, pm_client):
    subscription = WebhookSubscriptionFactory(organization=organization)
    response = pm_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/rotate-secret/")
    assert response.status_code == 200
    assert response.json()["secret"] != subscription.secret
    subscription.refresh_from_db()
    assert subscription.previous_secret_expires_at is not None


def test_turning_a_disabled_subscription_back_on_clears_its_state(organization, pm_client):
    from django.utils import timezone

    subscription = WebhookSubscriptionFactory(
        organization=organization, is_active=False, disabled_at=timezone.now(), disabled_reason="failing"
    )
    response = pm_client.patch(f"{SUBSCRIPTIONS}{subscription.pk}/", {"is_active": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["disabled_at"] is None and response.json()["is_active"] is True


def test_private_addresses_are_field_errors(pm_client, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    response = pm_client.post(
        SUBSCRIPTIONS, {"url": "http://169.254.169.254/", "events": ["enrollment.created"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "url"


def test_deleting_archives(organization, pm_client):
    subscription = WebhookSubscriptionFactory(organization=organization)
    assert pm_client.delete(f"{SUBSCRIPTIONS}{subscription.pk}/").status_code == 204
    assert WebhookSubscription.objects.for_organization(organization).get().archived_at is not None
    assert pm_client.get(SUBSCRIPTIONS).json()["results"] == []


def test_viewers_read_and_mentors_do_not(organization, viewer, mentor_user, api_client_for):
    WebhookSubscriptionFactory(organization=organization)
    assert api_client_for(viewer).get(SUBSCRIPTIONS).status_code == 200
    assert api_client_for(viewer).post(SUBSCRIPTIONS, {}, format="json").status_code == 403
    assert api_client_for(mentor_user).get(SUBSCRIPTIONS).status_code == 403


def test_another_organizations_subscriptions_and_deliveries_answer_404(
    organization, other_organization, pm_client, full_access_key, key_client
):
    foreign = WebhookSubscriptionFactory(organization=other_organization)
    foreign_delivery = WebhookDeliveryFactory(subscription=foreign)
    for client in (pm_client, key_client(full_access_key[1])):
        assert client.get(f"{SUBSCRIPTIONS}{foreign.pk}/").status_code == 404
        assert client.post(f"{SUBSCRIPTIONS}{foreign.pk}/rotate-secret/").status_code == 404
        assert client.get(f"{DELIVERIES}{foreign_delivery.pk}/").status_code == 404
        assert client.post(f"{DELIVERIES}{foreign_delivery.pk}/replay/").status_code == 404
        assert client.get(DELIVERIES).json()["results"] == []
        assert client.get(DELIVERIES, {"subscription": foreign.pk}).status_code == 400
        assert client.get("/api/v1/orgs/other/webhook-subscriptions/").status_code == 404


def test_the_delivery_log_shows_attempts_and_can_replay(
    organization, pm_client, webhook_receiver, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(organization=organization, url=webhook_receiver.url)
    delivery = WebhookDeliveryFactory(subscription=subscription)
    with django_capture_on_commit_callbacks(execute=True):
        response = pm_client.post(f"{DELIVERIES}{delivery.pk}/replay/")
    assert response.status_code == 202
    row = pm_client.get(f"{DELIVERIES}{delivery.pk}/").json()
    assert row["status"] == "succeeded"
    assert [(a["number"], a["status_code"]) for a in row["attempts"]] == [(1, 204)]
    assert pm_client.get(DELIVERIES, {"status": "succeeded"}).json()["results"][0]["id"] == delivery.pk


def test_lists_make_a_constant_number_of_queries(organization, pm_client):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert pm_client.get(url).status_code == 200
        return len(queries)

    subscription = WebhookSubscriptionFactory(organization=organization)
    WebhookDeliveryFactory(subscription=subscription)
    few = count(SUBSCRIPTIONS), count(DELIVERIES)
    for _ in range(5):
        more = WebhookSubscriptionFactory(organization=organization)
        WebhookDeliveryFactory(subscription=more)
    assert (count(SUBSCRIPTIONS), count(DELIVERIES)) == few


def test_a_test_event_reaches_the_receiver_signed(
    organization, pm_client, webhook_receiver, django_capture_on_commit_callbacks
):
    from standardwebhooks.webhooks import Webhook

    subscription = WebhookSubscriptionFactory(
        organization=organization, url=webhook_receiver.url, events=["milestone.overdue"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = pm_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/send-test/")
    assert response.status_code == 202
    [request] = webhook_receiver.requests
    event = Webhook(subscription.secret).verify(request["body"], request["headers"])
    assert event["type"] == "webhook.test"
    assert event["data"] == {"subscription": subscription.pk, "organization": "hanbit"}
