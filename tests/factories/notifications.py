"""Factories of the notifications app."""

import factory
from django.utils import timezone

from notifications.models import Channel, Kind, Notification, NotificationSettings, Unsubscribe
from tests.factories.core import OrganizationFactory


class NotificationSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationSettings
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)


class NotificationFactory(factory.django.DjangoModelFactory):
    """A pending email reminder, due now."""

    class Meta:
        model = Notification

    organization = factory.SubFactory(OrganizationFactory)
    kind = Kind.MILESTONE_DUE_TODAY
    channel = Channel.EMAIL
    subject_key = factory.Sequence(lambda n: f"milestone:{n}:enrollment:{n}")
    slot = "due:2026-03-05"
    recipient = factory.Sequence(lambda n: f"founder{n}@startup.test")
    recipient_name = factory.Sequence(lambda n: f"Founder {n}")
    language = "en"
    reason = "Customer interviews is due today."
    subject_line = "Due today: Customer interviews"
    body_text = "Customer interviews of Spring cohort is due today."
    body_html = "<p>Customer interviews of Spring cohort is due today.</p>"
    scheduled_for = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.SelfAttribute("scheduled_for")


class UnsubscribeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unsubscribe

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"founder{n}@startup.test")
    kind = Kind.MILESTONE_UPCOMING
