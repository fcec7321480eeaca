import datetime

import pytest

from officehours import services
from programs import services as program_services
from tests.factories.programs import EnrollmentFactory, ParticipantFactory


@pytest.fixture
def always_open(always_open_settings):
    """Every day a send day, no quiet hours: messages are scheduled at once."""
    return always_open_settings


def in_days(days: float, hour: int = 10) -> datetime.datetime:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def slot(organization, portal_mentor, always_open):
    return services.slot_publish(
        organization=organization,
        mentor=portal_mentor,
        title="Pricing questions",
        starts_at=in_days(3),
        duration_minutes=30,
        location="Room 3",
        video_url="https://meet.example.com/abc",
        cancel_window_hours=12,
    )


@pytest.fixture
def second_mentee(run, portal_mentor):
    enrollment = EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(
            organization=run.organization, name="Alex Kim", email="alex@startup.test", language="en"
        ),
    )
    program_services.mentor_assign(organization=run.organization, run=run, mentor=portal_mentor, enrollment=enrollment)
    return enrollment
