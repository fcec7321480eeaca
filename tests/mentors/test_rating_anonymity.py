"""Session ratings stay anonymous: nothing of a session's ratings shows until 3 mentees rated it."""

import datetime

import pytest
from django.urls import reverse

from mentors import selectors, services
from programs import services as program_services
from tests.factories.mentors import MentorFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory

APRIL_7 = datetime.date(2026, 4, 7)


@pytest.fixture
def portal(admin_client_for, mentor_user, portal_mentor):
    client = admin_client_for(mentor_user)
    client.cookies["django_language"] = "en"
    return client


def _mentees(run, mentor, count, start=0):
    enrollments = []
    for n in range(start, start + count):
        enrollment = EnrollmentFactory(
            run=run,
            participant=ParticipantFactory(
                organization=run.organization, name=f"Founder {n} Lee", email=f"founder{n}@startup.test"
            ),
        )
        program_services.mentor_assign(organization=run.organization, run=run, mentor=mentor, enrollment=enrollment)
        enrollments.append(enrollment)
    return enrollments


def _rated_session(organization, mentor, enrollments, scores, comments=None, held_on=APRIL_7):
    session = services.session_log(organization=organization, mentor=mentor, held_on=held_on, attendees=enrollments)
    for index, (enrollment, score) in enumerate(zip(enrollments, scores, strict=False)):
        services.session_rate(
            organization=organization,
            session=session,
            participant=enrollment.participant,
            score=score,
            comment=(comments or {}).get(index, ""),
        )
    return session


def test_a_one_to_one_session_never_shows_its_rating_beside_the_attendee(portal, organization, run, portal_mentor):
    (mentee,) = _mentees(run, portal_mentor, 1)
    session = _rated_session(organization, portal_mentor, [mentee], [1], {0: "Not helpful at all"})

    detail = portal.get(reverse("mentors:session_detail", args=[session.pk])).content.decode()
    assert "Founder 0 Lee" in detail  # the mentee present is listed...
    assert "★" not in detail  # ...and so no rating beside them
    assert "The rating appears once 3 mentees have rated this session" in detail

    listing = portal.get(reverse("mentors:session_list")).content.decode()
    assert "Not helpful at all" not in listing and "1 / 5" not in listing and "★" not in listing
    assert selectors.mentor_rating_summary(organization=organization, mentor=portal_mentor) == {
        "average": None,
        "count": 0,
    }


def test_a_session_with_three_raters_shows_its_average_and_comments(portal, organization, run, portal_mentor):
    mentees = _mentees(run, portal_mentor, 3)
    session = _rated_session(organization, portal_mentor, mentees, [5, 4, 3], {1: "Very concrete"})

    detail = portal.get(reverse("mentors:session_detail", args=[session.pk])).content.decode()
    assert "★ 4.0" in detail and "(3)" in detail
    listing = portal.get(reverse("mentors:session_list")).content.decode()
    assert "Very concrete" in listing and "4 / 5" in listing
    assert "Founder 1 Lee" not in listing.split("My ratings")[-1]


def test_two_raters_of_a_bigger_session_are_still_too_few(portal, organization, run, portal_mentor):
    mentees = _mentees(run, portal_mentor, 3)
    session = _rated_session(organization, portal_mentor, mentees, [2, 5])  # the third has not rated
    row = selectors.sessions_for_mentor(organization=organization, mentor=portal_mentor).get(pk=session.pk)
    assert (row.rating_count, row.rating_average) == (2, None)
    assert "★" not in portal.get(reverse("mentors:session_detail", args=[session.pk])).content.decode()


def test_the_monthly_activity_and_the_mentor_average_leave_small_sessions_out(organization, run, portal_mentor):
    portal_mentor.capacity = 10
    portal_mentor.save()
    mentees = _mentees(run, portal_mentor, 4)
    _rated_session(organization, portal_mentor, mentees[:3], [4, 4, 4])
    _rated_session(organization, portal_mentor, mentees[3:], [1], held_on=datetime.date(2026, 4, 8))
    summary = selectors.mentor_rating_summary(organization=organization, mentor=portal_mentor)
    assert summary == {"average": 4.0, "count": 3}  # the lone "1" would be readable as a difference
    (april,) = selectors.mentor_activity_by_month(organization=organization, since=datetime.date(2026, 4, 1))
    assert (april["sessions"], april["rating_average"], april["rating_count"]) == (2, 4.0, 3)


def test_the_admin_hides_a_small_sessions_ratings(organization, run, program_manager, admin_client_for):
    mentor = MentorFactory(organization=organization, capacity=10)
    (alone,) = _mentees(run, mentor, 1)
    small = _rated_session(organization, mentor, [alone], [2], {0: "Too slow"})
    group = _mentees(run, mentor, 3, start=1)
    big = _rated_session(organization, mentor, group, [5, 5, 2], {2: "Great examples"}, held_on=APRIL_7)
    client = admin_client_for(program_manager)
    client.cookies["django_language"] = "en"

    page = client.get(reverse("admin:mentors_mentoringsession_change", args=[small.pk])).content.decode()
    assert "Founder 0 Lee" in page and "Too slow" not in page
    page = client.get(reverse("admin:mentors_mentoringsession_change", args=[big.pk])).content.decode()
    assert "Great examples" in page

    listing = client.get(reverse("admin:mentors_mentoringsession_changelist")).content.decode()
    assert "4.0 (3)" in listing and "2.0 (1)" not in listing
    mentors = client.get(reverse("admin:mentors_mentor_changelist")).content.decode()
    assert '<td class="field-rating_average">4.0</td>' in mentors  # not 3.5 with the lone rating


def test_the_api_gives_no_average_below_three_raters(
    organization, other_organization, run, program_manager, api_client_for
):
    mentor = MentorFactory(organization=organization, capacity=10)
    (alone,) = _mentees(run, mentor, 1)
    small = _rated_session(organization, mentor, [alone], [2])
    big = _rated_session(organization, mentor, _mentees(run, mentor, 3, start=1), [5, 4, 3])
    client = api_client_for(program_manager)
    base = f"/api/v1/orgs/{organization.slug}/mentoring-sessions/"
    small_json = client.get(f"{base}{small.pk}/").json()
    assert (small_json["rating_count"], small_json["rating_average"]) == (1, None)
    assert client.get(f"{base}{big.pk}/").json()["rating_average"] == 4.0
    # Another organization's key to the same session: not found.
    assert client.get(f"/api/v1/orgs/{other_organization.slug}/mentoring-sessions/{small.pk}/").status_code == 404


def test_another_organizations_mentor_cannot_open_the_session(organization, run, portal_mentor, admin_client_for):
    (mentee,) = _mentees(run, portal_mentor, 1)
    session = _rated_session(organization, portal_mentor, [mentee], [3])
    from core.models import Membership
    from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory

    stranger = UserFactory(email="mentor@elsewhere.test")
    elsewhere = OrganizationFactory(slug="elsewhere")
    MembershipFactory(organization=elsewhere, user=stranger, role=Membership.Role.MENTOR)
    MentorFactory(organization=elsewhere, user=stranger)
    client = admin_client_for(stranger)
    assert client.get(reverse("mentors:session_detail", args=[session.pk])).status_code == 404
