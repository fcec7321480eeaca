"""Admin of API keys (shown once, revoked), subscriptions and the delivery log (replay)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.models import ApiKey, WebhookDelivery, WebhookSubscription
from tests.factories.integrations import WebhookDeliveryFactory, WebhookSubscriptionFactory, api_key_create

KEYS = "/admin/integrations/apikey/"
SUBSCRIPTIONS = "/admin/integrations/webhooksubscription/"
DELIVERIES = "/admin/integrations/webhookdelivery/"


@pytest.fixture
def pm_admin(program_manager, admin_client_for):
    return admin_client_for(program_manager)


def test_creating_a_key_shows_it_once(organization, pm_admin, key_client):
    response = pm_admin.post(
        f"{KEYS}add/", {"name": "BI export", "scopes": ["programs:read", "assessments:read"]}, follow=True
    )
    assert response.status_code == 200
    plaintext = re.search(r"<code>(ck_[^<]+)</code>", response.content.decode()).group(1)
    key = ApiKey.objects.for_organization(organization).get()
    assert key.scopes == ["assessments:read", "programs:read"]
    assert plaintext.startswith(f"ck_{key.prefix}_")
    assert plaintext not in pm_admin.get(f"{KEYS}{key.pk}/change/").content.decode()


def test_revoking_keys_from_the_admin(organization, pm_admin, key_client):
    key, plaintext = api_key_create(organization, scopes=["organization:read"])
    response = pm_admin.post(KEYS, {"action": "revoke_selected", "_selected_action": [key.pk]}, follow=True)
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key_client(plaintext).get("/api/v1/orgs/hanbit/memberships/").status_code == 401


def test_subscribing_in_the_admin_generates_a_secret(organization, pm_admin, webhook_receiver):
    response = pm_admin.post(
        f"{SUBSCRIPTIONS}add/",
        {
            "url": webhook_receiver.url,
            "description": "Slack bot",
            "events": ["help_request.created"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = WebhookSubscription.objects.for_organization(organization).get()
    assert subscription.secret.startswith("whsec_")
    assert subscription.events == ["help_request.created"]


def test_replaying_deliveries_from_the_admin(
    organization, pm_admin, webhook_receiver, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(organization=organization, url=webhook_receiver.url)
    delivery = WebhookDeliveryFactory(subscription=subscription, status=WebhookDelivery.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        pm_admin.post(DELIVERIES, {"action": "replay_selected", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    page = pm_admin.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "204" in page  # the attempt log is on the delivery's page


def test_another_organizations_rows_answer_404_in_the_admin(other_organization, pm_admin):
    key, _plaintext = api_key_create(other_organization)
    subscription = WebhookSubscriptionFactory(organization=other_organization)
    delivery = WebhookDeliveryFactory(subscription=subscription)
    assert pm_admin.get(f"{KEYS}{key.pk}/change/").status_code == 404
    assert pm_admin.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").status_code == 404
    assert pm_admin.get(f"{DELIVERIES}{delivery.pk}/change/").status_code == 404
    for url in (KEYS, SUBSCRIPTIONS, DELIVERIES):
        assert pm_admin.get(url).context["cl"].result_count == 0


def test_changelists_make_a_constant_number_of_queries(organization, program_manager, pm_admin):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert pm_admin.get(url).status_code == 200
        return len(queries)

    def add_rows():
        api_key_create(organization, created_by=program_manager)
        WebhookDeliveryFactory(subscription=WebhookSubscriptionFactory(organization=organization))

    add_rows()
    few = [count(url) for url in (KEYS, SUBSCRIPTIONS, DELIVERIES)]
    for _ in range(4):
        add_rows()
    assert [count(url) for url in (KEYS, SUBSCRIPTIONS, DELIVERIES)] == few
