"""Factories of the assessments app. Related rows share one organization."""

import datetime

import factory
from django.utils import timezone

from assessments.models import (
    AssessmentWindow,
    Framework,
    Indicator,
    Level,
    ValueStatement,
    ValueSurvey,
)
from tests.factories.core import OrganizationFactory
from tests.factories.programs import ProgramFactory, RunFactory


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    organization = factory.SubFactory(OrganizationFactory)
    key = factory.Sequence(lambda n: f"framework-{n}")
    name_ko = factory.Sequence(lambda n: f"프레임워크 {n}")
    name_en = factory.Sequence(lambda n: f"Framework {n}")


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Level

    framework = factory.SubFactory(FrameworkFactory)
    organization = factory.SelfAttribute("framework.organization")
    number = factory.Sequence(lambda n: n)
    name_ko = factory.LazyAttribute(lambda o: f"레벨 {o.number}")
    name_en = factory.LazyAttribute(lambda o: f"Level {o.number}")


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    level = factory.SubFactory(LevelFactory)
    organization = factory.SelfAttribute("level.organization")
    position = factory.Sequence(lambda n: n + 1)
    text_ko = factory.Sequence(lambda n: f"고객과 함께 시험한다 {n}")
    text_en = factory.Sequence(lambda n: f"Tests with customers {n}")


class AssessmentWindowFactory(factory.django.DjangoModelFactory):
    """An open window (opened yesterday, closes in a week)."""

    class Meta:
        model = AssessmentWindow

    run = factory.SubFactory(RunFactory)
    organization = factory.SelfAttribute("run.organization")
    framework = factory.SubFactory(FrameworkFactory, organization=factory.SelfAttribute("..organization"))
    kind = AssessmentWindow.Kind.PRE
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


class ValueSurveyFactory(factory.django.DjangoModelFactory):
    """An open survey of a program."""

    class Meta:
        model = ValueSurvey

    program = factory.SubFactory(ProgramFactory)
    organization = factory.SelfAttribute("program.organization")
    title = factory.Sequence(lambda n: f"Value survey {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


class ValueStatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValueStatement

    survey = factory.SubFactory(ValueSurveyFactory)
    organization = factory.SelfAttribute("survey.organization")
    position = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Value statement {n}")
    tier = ValueStatement.Tier.ESSENTIAL
    predicted_importance = 4
