"""Factories of the privacy app."""

import datetime

import factory

from privacy.models import DataSubjectRequest, PrivacySettings
from tests.factories.core import OrganizationFactory
from tests.factories.programs import ParticipantFactory


class DataSubjectRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataSubjectRequest

    organization = factory.SubFactory(OrganizationFactory)
    participant = factory.SubFactory(ParticipantFactory, organization=factory.SelfAttribute("..organization"))
    kind = DataSubjectRequest.Kind.ACCESS
    person_label = factory.SelfAttribute("participant.name")
    contact_email = factory.SelfAttribute("participant.email")
    received_on = datetime.date(2026, 3, 2)
    due_on = datetime.date(2026, 3, 12)


class PrivacySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrivacySettings
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)
    retention_days = 365
