"""The integrations demo: a key that works, a subscription that is off, a delivery log; idempotent."""

import io

from django.core.management import call_command

from core.models import Organization
from integrations.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookSubscription


def _counts():
    return [
        model.objects.dangerously_all_organizations().count()
        for model in (ApiKey, WebhookSubscription, WebhookDelivery, WebhookAttempt)
    ]


def test_the_demo_is_idempotent_and_its_key_works(db, key_client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    assert first == [2, 2, 6, 10]
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first

    hanbit = Organization.objects.get(slug="hanbit")
    assert "ck_demohanbit_demo-secret-hanbit" in out.getvalue()
    response = key_client("ck_demohanbit_demo-secret-hanbit").get("/api/v1/orgs/hanbit/webhook-deliveries/")
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    subscription = WebhookSubscription.objects.for_organization(hanbit).get()
    assert subscription.is_active is False and "데모" in subscription.description
