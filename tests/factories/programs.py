"""Factories of the programs app. Related rows share one organization."""

import datetime

import factory

from core.models import Membership
from mentors.models import Mentor
from programs.models import (
    CheckIn,
    Enrollment,
    HelpRequest,
    HelpRequestReply,
    MentorAssignment,
    Milestone,
    MilestoneProgress,
    MilestoneTemplate,
    Participant,
    Program,
    Run,
    Team,
    TeamMembership,
)
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Customer Discovery Bootcamp {n}")
    promised_value = "Find a problem worth solving and the first ten customers who have it."


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Run

    program = factory.SubFactory(ProgramFactory)
    organization = factory.SelfAttribute("program.organization")
    name = factory.Sequence(lambda n: f"Cohort {n}")
    starts_on = datetime.date(2026, 3, 2)
    ends_on = datetime.date(2026, 6, 30)
    final_deadline = datetime.date(2026, 6, 26)
    status = Run.Status.ACTIVE


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Founder {n}")
    email = factory.Sequence(lambda n: f"founder{n}@startup.test")
    company = factory.Sequence(lambda n: f"Startup {n}")
    language = "ko"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    organization = factory.SelfAttribute("team.organization")
    participant = factory.SubFactory(ParticipantFactory, organization=factory.SelfAttribute("..organization"))


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    run = factory.SubFactory(RunFactory)
    organization = factory.SelfAttribute("run.organization")
    participant = factory.SubFactory(ParticipantFactory, organization=factory.SelfAttribute("..organization"))
    status = Enrollment.Status.ACTIVE
    success_definition = "Ten paying customers before demo day."


class ProgramsMentorFactory(factory.django.DjangoModelFactory):
    """A mentors.Mentor for programs tests (with a mentor membership)."""

    class Meta:
        model = Mentor
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    capacity = 3
    status = Mentor.Status.ACTIVE

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):
        if create:
            MembershipFactory(organization=obj.organization, user=obj.user, role=Membership.Role.MENTOR)


class MentorAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentorAssignment

    run = factory.SubFactory(RunFactory)
    organization = factory.SelfAttribute("run.organization")
    mentor = factory.SubFactory(ProgramsMentorFactory, organization=factory.SelfAttribute("..organization"))
    enrollment = None


class MilestoneTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MilestoneTemplate

    program = factory.SubFactory(ProgramFactory)
    organization = factory.SelfAttribute("program.organization")
    name = factory.Sequence(lambda n: f"Deliverable {n}")
    days_before_deadline = 20


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    run = factory.SubFactory(RunFactory)
    organization = factory.SelfAttribute("run.organization")
    name = factory.Sequence(lambda n: f"Milestone {n}")
    days_before_deadline = 10
    due_on = factory.LazyAttribute(lambda o: o.run.final_deadline - datetime.timedelta(days=o.days_before_deadline))


class MilestoneProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MilestoneProgress

    milestone = factory.SubFactory(MilestoneFactory)
    organization = factory.SelfAttribute("milestone.organization")
    enrollment = factory.SubFactory(
        EnrollmentFactory,
        run=factory.SelfAttribute("..milestone.run"),
        organization=factory.SelfAttribute("..organization"),
    )
    status = MilestoneProgress.Status.IN_PROGRESS


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    enrollment = factory.SubFactory(EnrollmentFactory)
    organization = factory.SelfAttribute("enrollment.organization")
    done = "Interviewed five shop owners."
    next = "Draft the landing page."
    confidence = 4


class HelpRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HelpRequest

    enrollment = factory.SubFactory(EnrollmentFactory)
    organization = factory.SelfAttribute("enrollment.organization")
    act = "We ran a price test at 9,900 won."
    impact = "Nobody converted; we cannot tell if price or message is wrong."
    desired_outcome = "A way to separate the two in one week."


class HelpRequestReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HelpRequestReply

    help_request = factory.SubFactory(HelpRequestFactory)
    organization = factory.SelfAttribute("help_request.organization")
    body = "Run two landing pages with the same price and different messages."
