"""Factories of the integrations app. Keys and subscriptions go through their services."""

import factory

from core.events import EVENT_TYPES
from integrations import services
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.signing import secret_generate
from tests.factories.core import OrganizationFactory


def api_key_create(organization, scopes=("programs:read",), **kwargs):
    """(ApiKey, plaintext) made by the real service, as an admin or the command would."""
    return services.api_key_create(
        organization=organization, name=kwargs.pop("name", "CRM sync"), scopes=list(scopes), **kwargs
    )


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    organization = factory.SubFactory(OrganizationFactory)
    url = "https://hooks.example.com/cohort"
    description = "CRM"
    events = factory.LazyFunction(lambda: list(EVENT_TYPES))
    secret = factory.LazyFunction(secret_generate)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    organization = factory.SelfAttribute("subscription.organization")
    event_id = factory.Sequence(lambda n: f"msg_test{n:08d}")
    event_type = "enrollment.created"
    body = '{"type":"enrollment.created","timestamp":"2026-03-02T00:00:00Z","data":{"id":1}}'
