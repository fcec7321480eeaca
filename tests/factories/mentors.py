"""Factories of the mentors app. Related rows share one organization."""

import datetime
from decimal import Decimal

import factory

from core.models import Membership
from mentors.models import DevelopmentGoal, KeyResult, Mentor, MentoringSession
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory


class MentorFactory(factory.django.DjangoModelFactory):
    """A mentor with a mentor membership in the same organization."""

    class Meta:
        model = Mentor
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    expertise = factory.LazyFunction(lambda: ["customer discovery", "pricing"])
    bio = "Founded two B2B startups; now an angel investor."
    motivation = "I want to learn to coach, not just advise."
    capacity = 3
    status = Mentor.Status.ACTIVE

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):
        if create and not Membership.objects.for_organization(obj.organization).filter(user=obj.user).exists():
            MembershipFactory(organization=obj.organization, user=obj.user, role=Membership.Role.MENTOR)


class DevelopmentGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DevelopmentGoal

    mentor = factory.SubFactory(MentorFactory)
    organization = factory.SelfAttribute("mentor.organization")
    title = factory.Sequence(lambda n: f"Become a better coach {n}")
    why_it_matters = "Coaching is the part of mentoring I enjoy most."
    target_date = datetime.date(2026, 12, 31)
    visibility = DevelopmentGoal.Visibility.PRIVATE


class KeyResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyResult

    goal = factory.SubFactory(DevelopmentGoalFactory)
    organization = factory.SelfAttribute("goal.organization")
    title = factory.Sequence(lambda n: f"Coaching conversations held {n}")
    start_value = Decimal("0")
    current_value = Decimal("0")
    target_value = Decimal("10")
    unit = "conversations"


class MentoringSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MentoringSession

    mentor = factory.SubFactory(MentorFactory)
    organization = factory.SelfAttribute("mentor.organization")
    held_on = datetime.date(2026, 4, 7)
    duration_minutes = 60
    topics = "Pricing interviews"
    notes = "Went through five interview notes."
    next_steps = "Ten more interviews by Friday."
