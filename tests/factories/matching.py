"""Factories of the matching app. Related rows share one organization."""

import factory

from matching.models import Conflict, Preference, Proposal, ProposedPair
from tests.factories.programs import EnrollmentFactory, ProgramsMentorFactory, RunFactory


class PreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Preference

    enrollment = factory.SubFactory(EnrollmentFactory)
    organization = factory.SelfAttribute("enrollment.organization")
    run = factory.SelfAttribute("enrollment.run")
    mentor = factory.SubFactory(ProgramsMentorFactory, organization=factory.SelfAttribute("..organization"))
    side = Preference.Side.PARTICIPANT
    rank = 1


class ConflictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conflict

    enrollment = factory.SubFactory(EnrollmentFactory)
    organization = factory.SelfAttribute("enrollment.organization")
    mentor = factory.SubFactory(ProgramsMentorFactory, organization=factory.SelfAttribute("..organization"))
    note = "Invested in a direct competitor"


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Proposal

    run = factory.SubFactory(RunFactory)
    organization = factory.SelfAttribute("run.organization")


class ProposedPairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProposedPair

    proposal = factory.SubFactory(ProposalFactory)
    organization = factory.SelfAttribute("proposal.organization")
    enrollment = factory.SubFactory(
        EnrollmentFactory,
        organization=factory.SelfAttribute("..organization"),
        run=factory.SelfAttribute("..proposal.run"),
    )
    mentor = factory.SubFactory(ProgramsMentorFactory, organization=factory.SelfAttribute("..organization"))
    score = 7
    reasons = factory.LazyFunction(lambda: [{"code": "industry", "value": "b2b_saas"}])
