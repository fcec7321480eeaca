import datetime

import factory

from officehours.models import OfficeHourBooking, OfficeHourSlot
from tests.factories.mentors import MentorFactory
from tests.factories.programs import EnrollmentFactory, ProgramFactory, RunFactory


class OfficeHourSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficeHourSlot

    mentor = factory.SubFactory(MentorFactory)
    organization = factory.SelfAttribute("mentor.organization")
    title = "Pricing questions"
    starts_at = factory.LazyFunction(
        lambda: (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)).replace(
            minute=0, second=0, microsecond=0
        )
    )
    duration_minutes = 30
    time_zone = "Asia/Seoul"
    location = "Room 3, Startup campus"


class OfficeHourBookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficeHourBooking

    slot = factory.SubFactory(OfficeHourSlotFactory)
    organization = factory.SelfAttribute("slot.organization")
    mentor = factory.SelfAttribute("slot.mentor")
    enrollment = factory.LazyAttribute(
        lambda o: EnrollmentFactory(run=RunFactory(program=ProgramFactory(organization=o.organization)))
    )
    run = factory.SelfAttribute("enrollment.run")
    starts_at = factory.SelfAttribute("slot.starts_at")
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=30))
