"""Office-hours pages: the mentor portal and the participant signed-link page; bad input, wrong organization."""

import datetime

import pytest
from django.urls import reverse

from officehours import services
from officehours.models import OfficeHourBooking, OfficeHourSlot
from programs import links
from tests.factories.mentors import MentorFactory
from tests.factories.officehours import OfficeHourBookingFactory, OfficeHourSlotFactory
from tests.officehours.conftest import in_days

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(admin_client_for, mentor_user, portal_mentor):
    return admin_client_for(mentor_user)


def page(enrollment, lang="en"):
    return reverse("officehours:participant", args=[links.participant_token(enrollment)]) + f"?lang={lang}"


def slots(organization):
    return OfficeHourSlot.objects.for_organization(organization)


# --- the mentor ---------------------------------------------------------------------------------


def test_a_mentor_publishes_weekly_office_hours_in_their_zone(portal, organization, portal_mentor):
    day = (datetime.date.today() + datetime.timedelta(days=7)).isoformat()
    until = (datetime.date.today() + datetime.timedelta(days=28)).isoformat()
    response = portal.post(
        reverse("officehours:slot_create"),
        {
            "title": "Pricing",
            "date": day,
            "start_time": "10:00",
            "duration_minutes": "30",
            "time_zone": "Europe/London",
            "repeat": "weekly",
            "repeat_until": until,
            "location": "",
            "video_url": "https://meet.example.com/pricing",
            "cancel_window_hours": "24",
        },
    )
    assert response.status_code == 302
    slot = slots(organization).get()
    assert (slot.mentor, slot.time_zone, slot.repeat) == (portal_mentor, "Europe/London", "weekly")
    assert slot.local_start().strftime("%H:%M") == "10:00"
    assert slot.starts_at.utcoffset() == datetime.timedelta(0)
    listing = portal.get(reverse("officehours:mentor_home")).content.decode()
    assert "Pricing" in listing and "Every week from" in listing


def test_bad_input_is_a_form_error_and_saves_nothing(portal, organization):
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    response = portal.post(
        reverse("officehours:slot_create"),
        {
            "date": yesterday,
            "start_time": "10:00",
            "duration_minutes": "30",
            "time_zone": "Asia/Seoul",
            "repeat": "once",
            "cancel_window_hours": "12",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Give a place or a video link." in body
    response = portal.post(
        reverse("officehours:slot_create"),
        {
            "date": yesterday,
            "start_time": "10:00",
            "duration_minutes": "9999",
            "time_zone": "Mars/Base",
            "repeat": "weekly",
            "location": "Room",
            "cancel_window_hours": "x",
        },
    )
    assert response.status_code == 200
    assert not slots(organization).exists()


def test_a_past_date_is_refused_on_the_date_field(portal, organization):
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    response = portal.post(
        reverse("officehours:slot_create"),
        {
            "date": yesterday,
            "start_time": "10:00",
            "duration_minutes": "30",
            "time_zone": "Asia/Seoul",
            "repeat": "once",
            "location": "Room",
            "cancel_window_hours": "12",
        },
    )
    assert response.status_code == 200
    assert "Choose a time in the future." in response.content.decode()
    assert not slots(organization).exists()


def test_another_mentors_or_organizations_slot_and_booking_answer_404(portal, organization, other_organization, mentee):
    others = OfficeHourSlotFactory(mentor=MentorFactory(organization=organization))
    foreign = OfficeHourSlotFactory(mentor=MentorFactory(organization=other_organization))
    foreign_booking = OfficeHourBookingFactory(slot=foreign)
    for slot in (others, foreign):
        assert portal.get(reverse("officehours:slot_edit", args=[slot.pk])).status_code == 404
        assert portal.post(reverse("officehours:slot_withdraw", args=[slot.pk])).status_code == 404
    assert portal.post(reverse("officehours:mentor_booking_cancel", args=[foreign_booking.pk])).status_code == 404
    assert portal.get(reverse("officehours:booking_session", args=[foreign_booking.pk])).status_code == 404
    assert slots(organization).get(pk=others.pk).status == "published"


def test_the_mentor_cancels_and_logs_a_session_from_the_portal(portal, organization, slot, mentee):
    booking = services.booking_create(
        organization=organization, enrollment=mentee, slot_id=slot.pk, starts_at=slot.starts_at
    )
    home = portal.get(reverse("officehours:mentor_home")).content.decode()
    assert "김민지" in home
    response = portal.post(reverse("officehours:mentor_booking_cancel", args=[booking.pk]), {"reason": "Ill"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Ill")


def test_a_session_form_for_office_hours_not_yet_begun_shows_the_error(portal, organization, slot, mentee):
    booking = services.booking_create(
        organization=organization, enrollment=mentee, slot_id=slot.pk, starts_at=slot.starts_at
    )
    response = portal.post(reverse("officehours:booking_session", args=[booking.pk]), {"notes": "x"})
    assert response.status_code == 200
    assert "once the office hours have begun" in response.content.decode()


# --- the participant ----------------------------------------------------------------------------


def test_the_participant_books_a_free_time_of_their_mentor(client, organization, slot, mentee):
    response = client.get(page(mentee))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="card free-time"') == 1 and "Pricing questions" in body
    assert response["Referrer-Policy"] == "same-origin"
    starts = slot.starts_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    response = client.post(page(mentee), {"slot": slot.pk, "starts_at": starts, "topic": "My pricing page"})
    assert response.status_code == 302
    booking = OfficeHourBooking.objects.for_organization(organization).get()
    assert (booking.enrollment, booking.topic, booking.starts_at) == (mentee, "My pricing page", slot.starts_at)
    body = client.get(response["Location"]).content.decode()
    assert "Booked." in body and 'class="card my-booking"' in body and 'class="card free-time"' not in body


def test_a_taken_or_garbled_time_is_a_clear_message_not_a_500(client, organization, slot, mentee, second_mentee):
    services.booking_create(
        organization=organization, enrollment=second_mentee, slot_id=slot.pk, starts_at=slot.starts_at
    )
    starts = slot.starts_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    response = client.post(page(mentee), {"slot": slot.pk, "starts_at": starts})
    assert response.status_code == 400
    assert "Someone else has just booked this time" in response.content.decode()
    response = client.post(page(mentee), {"slot": "abc", "starts_at": "tomorrow"})
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert OfficeHourBooking.objects.for_organization(organization).filter(enrollment=mentee).count() == 0


def test_the_participant_cancels_before_the_window_and_is_refused_inside_it(
    client, organization, mentee, slot, always_open
):
    booking = services.booking_create(
        organization=organization, enrollment=mentee, slot_id=slot.pk, starts_at=slot.starts_at
    )
    cancel = reverse("officehours:participant_cancel", args=[links.participant_token(mentee), booking.pk]) + "?lang=en"
    assert client.post(cancel).status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    soon = services.slot_publish(
        organization=organization,
        mentor=slot.mentor,
        starts_at=in_days(0, hour=datetime.datetime.now(datetime.UTC).hour) + datetime.timedelta(hours=3),
        location="Room",
        cancel_window_hours=12,
    )
    late = services.booking_create(
        organization=organization, enrollment=mentee, slot_id=soon.pk, starts_at=soon.starts_at
    )
    body = client.get(page(mentee)).content.decode()
    assert "cannot be cancelled in the last 12 hours" in body
    cancel = reverse("officehours:participant_cancel", args=[links.participant_token(mentee), late.pk]) + "?lang=en"
    response = client.post(cancel)
    assert "cancel_error" in response["Location"]
    late.refresh_from_db()
    assert late.status == "booked"


def test_another_enrollments_booking_and_a_narrow_link_open_nothing(
    client, organization, slot, mentee, second_mentee, other_enrollment
):
    theirs = services.booking_create(
        organization=organization, enrollment=second_mentee, slot_id=slot.pk, starts_at=slot.starts_at
    )
    cancel = reverse("officehours:participant_cancel", args=[links.participant_token(mentee), theirs.pk])
    assert client.post(cancel).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "booked"
    narrow = reverse("officehours:participant", args=[links.participant_token(mentee, links.PURPOSE_CHECK_IN)])
    assert client.get(narrow).status_code == 404
    assert client.get(reverse("officehours:participant", args=["not-a-token"])).status_code == 404
    # Another organization's enrollment sees only its own (no mentors here, no free times).
    body = client.get(page(other_enrollment)).content.decode()
    assert "Pricing questions" not in body and "You have no mentor assigned" in body


def test_the_participant_page_makes_the_same_queries_for_few_or_many_times(
    client, organization, portal_mentor, mentee, always_open, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for total in (1, 6):
        for _ in range(total - len(slots(organization))):
            services.slot_publish(
                organization=organization,
                mentor=portal_mentor,
                starts_at=in_days(len(slots(organization)) + 1),
                location="Room",
            )
        with CaptureQueriesContext(connection) as captured:
            body = client.get(page(mentee)).content.decode()
        assert body.count('class="card free-time"') == total
        counts[total] = len(captured)
    assert counts[1] == counts[6], counts


def test_the_home_links_to_office_hours_and_lists_the_booking(client, organization, slot, mentee):
    services.booking_create(organization=organization, enrollment=mentee, slot_id=slot.pk, starts_at=slot.starts_at)
    body = client.get(links.participant_link(mentee, lang="en")).content.decode()
    assert 'id="office-hours"' in body and "Book office hours" in body
    assert body.count('class="office-hours-booking"') == 1
    assert reverse("officehours:participant", args=["x"]).rsplit("x", 1)[0] in body
