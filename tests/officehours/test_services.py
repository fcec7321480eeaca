"""Office hours: publishing, booking, cancelling, calendar invitations and reminders in the outbox, sessions."""

import datetime
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from icalendar import Calendar

from core import rls
from mentors.models import MentoringSession, SessionAttendance
from notifications import services as notification_services
from notifications.models import Kind, Notification
from officehours import services
from officehours.models import OfficeHourBooking, OfficeHourSlot
from officehours.occurrences import occurrence_starts
from tests.factories.mentors import MentorFactory
from tests.factories.officehours import OfficeHourBookingFactory
from tests.officehours.conftest import in_days

pytestmark = pytest.mark.django_db


def outbox(organization, **filters):
    return Notification.objects.for_organization(organization).filter(**filters).order_by("kind", "slot", "recipient")


def book(organization, enrollment, slot, starts_at=None, **kwargs):
    return services.booking_create(
        organization=organization,
        enrollment=enrollment,
        slot_id=slot.pk,
        starts_at=starts_at or slot.starts_at,
        **kwargs,
    )


def parsed(row) -> Calendar:
    return Calendar.from_ical(row.calendar)


def test_a_weekly_slot_keeps_its_local_time_across_daylight_saving(organization, portal_mentor):
    # Tuesdays 10:00 in London from 14 Oct 2036 (BST, UTC+1) to 4 Nov (GMT, UTC+0).
    slot = OfficeHourSlot(
        organization=organization,
        mentor=portal_mentor,
        starts_at=datetime.datetime(2036, 10, 14, 9, 0, tzinfo=datetime.UTC),
        time_zone="Europe/London",
        repeat=OfficeHourSlot.Repeat.WEEKLY,
        repeat_until=datetime.date(2036, 11, 4),
        location="Room 3",
    )
    starts = occurrence_starts(slot)
    assert [s.strftime("%d %H:%M") for s in starts] == ["14 09:00", "21 09:00", "28 10:00", "04 10:00"]
    assert {s.astimezone(slot.zone).strftime("%H:%M") for s in starts} == {"10:00"}


def test_publishing_needs_a_place_or_a_link_and_a_last_day_for_weekly(organization, portal_mentor):
    with pytest.raises(ValidationError) as error:
        services.slot_publish(organization=organization, mentor=portal_mentor, starts_at=in_days(2))
    assert "location" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.slot_publish(
            organization=organization, mentor=portal_mentor, starts_at=in_days(2), location="Room", repeat="weekly"
        )
    assert "repeat_until" in error.value.message_dict
    assert not OfficeHourSlot.objects.for_organization(organization).exists()


def test_a_slot_takes_the_organizations_zone_by_default(organization, portal_mentor):
    slot = services.slot_publish(organization=organization, mentor=portal_mentor, starts_at=in_days(2), location="Room")
    assert slot.time_zone == organization.time_zone


def test_booking_writes_one_invitation_each_with_the_calendar_and_reminders_once(organization, slot, mentee):
    booking = book(organization, mentee, slot, topic="Pricing page")
    invitations = list(outbox(organization, kind=Kind.OFFICE_HOURS_BOOKED))
    assert sorted(r.recipient for r in invitations) == sorted(
        [slot.mentor.user.email.lower(), mentee.participant.email.lower()]
    )
    event = parsed(invitations[0]).walk("VEVENT")[0]
    calendar = parsed(invitations[0])
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]).startswith(booking.uid + "@")
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == booking.starts_at
    assert event.decoded("DTEND") == booking.starts_at + datetime.timedelta(minutes=30)
    assert str(event["LOCATION"]) == "Room 3"
    assert "Pricing page" in str(event["DESCRIPTION"])
    assert "mailto:" + slot.mentor.user.email.lower() in str(event["ORGANIZER"])
    reminders = outbox(organization, kind=Kind.OFFICE_HOURS_REMINDER)
    assert sorted({r.slot for r in reminders}) == ["before:1h", "before:24h"]
    assert reminders.count() == 4
    assert {r.scheduled_for for r in reminders.filter(slot="before:1h")} == {
        booking.starts_at - datetime.timedelta(hours=1)
    }
    # Writing the same messages again (a retried request, a second worker) makes nothing new.
    services._queue_calendar_messages(organization, booking, Kind.OFFICE_HOURS_BOOKED)
    services._queue_reminders(organization, booking, booking.created_at)
    assert outbox(organization).count() == 6


def test_the_email_carries_the_invitation_as_text_calendar_and_ics(organization, slot, mentee):
    book(organization, mentee, slot)
    result = notification_services.notification_relay(organization=organization)
    assert result.sent == 2
    assert len(mail.outbox) == 2
    message = mail.outbox[0]
    kinds = [mimetype for _content, mimetype in message.alternatives]
    assert "text/calendar; method=REQUEST" in kinds
    assert [name for name, _content, _type in message.attachments] == ["invite.ics"]
    assert "BEGIN:VEVENT" in message.attachments[0][1]
    # Sent once: the relay again sends nothing.
    assert notification_services.notification_relay(organization=organization).sent == 0


def test_cancelling_sends_method_cancel_with_the_same_uid_and_a_higher_sequence(organization, slot, mentee):
    booking = book(organization, mentee, slot)
    services.booking_cancel(organization=organization, booking=booking, by="participant", reason="Conflict")
    booking.refresh_from_db()
    assert booking.status == OfficeHourBooking.Status.CANCELLED
    rows = list(outbox(organization, kind=Kind.OFFICE_HOURS_CANCELLED))
    assert len(rows) == 2 and {r.slot for r in rows} == {"seq:1"}
    calendar = parsed(rows[0])
    event = calendar.walk("VEVENT")[0]
    invitation = parsed(outbox(organization, kind=Kind.OFFICE_HOURS_BOOKED).first()).walk("VEVENT")[0]
    assert calendar["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(invitation["UID"])
    assert int(event["SEQUENCE"]) == 1 > int(invitation["SEQUENCE"])
    # The reminders will not go out.
    reminders = outbox(organization, kind=Kind.OFFICE_HOURS_REMINDER)
    assert {r.status for r in reminders} == {Notification.Status.CANCELLED}
    # The time is free again.
    assert book(organization, mentee, slot).status == OfficeHourBooking.Status.BOOKED


def test_a_changed_place_sends_an_update_with_the_next_sequence(organization, slot, mentee):
    booking = book(organization, mentee, slot)
    services.slot_update(organization=organization, slot=slot, location="Room 7")
    rows = list(outbox(organization, kind=Kind.OFFICE_HOURS_CHANGED))
    assert len(rows) == 2
    event = parsed(rows[0]).walk("VEVENT")[0]
    assert parsed(rows[0])["METHOD"] == "REQUEST"
    assert str(event["LOCATION"]) == "Room 7"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["UID"]).startswith(booking.uid)
    with pytest.raises(ValidationError):
        services.slot_update(organization=organization, slot=slot, starts_at=in_days(5))


def test_a_participant_cannot_cancel_inside_the_window_but_the_mentor_can(organization, slot, mentee):
    booking = book(organization, mentee, slot)
    late = booking.starts_at - datetime.timedelta(hours=2)
    with pytest.raises(ValidationError) as error:
        services.booking_cancel(organization=organization, booking=booking, by="participant", now=late)
    assert "12 hours" in " ".join(error.value.messages)
    booking.refresh_from_db()
    assert booking.status == OfficeHourBooking.Status.BOOKED
    services.booking_cancel(organization=organization, booking=booking, by="mentor", now=late)
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == ("cancelled", "mentor")
    cancelled = outbox(organization, kind=Kind.OFFICE_HOURS_CANCELLED, recipient=mentee.participant.email.lower())
    assert cancelled.count() == 1


def test_only_the_enrollments_own_mentors_can_be_booked(organization, run, slot, mentee, always_open):
    stranger = MentorFactory(organization=organization)
    other_slot = services.slot_publish(
        organization=organization, mentor=stranger, starts_at=in_days(2), location="Room"
    )
    with pytest.raises(ValidationError, match="your own mentors"):
        book(organization, mentee, other_slot)


def test_a_time_that_is_not_an_occurrence_or_is_past_is_refused(organization, slot, mentee):
    with pytest.raises(ValidationError, match="not one of"):
        book(organization, mentee, slot, starts_at=slot.starts_at + datetime.timedelta(minutes=5))
    with pytest.raises(ValidationError, match="begun"):
        book(organization, mentee, slot, now=slot.starts_at + datetime.timedelta(minutes=1))


def test_the_second_booking_of_a_time_gets_a_clear_message(organization, slot, mentee, second_mentee):
    book(organization, mentee, slot)
    with pytest.raises(ValidationError, match="Someone else has just booked"):
        book(organization, second_mentee, slot)
    assert OfficeHourBooking.objects.for_organization(organization).count() == 1


def test_the_database_refuses_two_active_bookings_of_one_time(organization, slot, mentee, second_mentee):
    OfficeHourBookingFactory(slot=slot, enrollment=mentee)
    with pytest.raises(IntegrityError), transaction.atomic():
        OfficeHourBookingFactory(slot=slot, enrollment=second_mentee)


def test_another_organizations_enrollment_cannot_book(organization, slot, other_enrollment):
    with pytest.raises(ValidationError):
        book(organization, other_enrollment, slot)


def test_after_the_slot_the_mentor_turns_the_booking_into_a_session_and_the_rating_is_asked(
    organization, slot, mentee, django_capture_on_commit_callbacks
):
    booking = book(organization, mentee, slot)
    with pytest.raises(ValidationError, match="begun"):
        services.booking_session_log(organization=organization, booking=booking, notes="Too early")
    # The office hours took place an hour ago.
    held = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    OfficeHourBooking.objects.for_organization(organization).filter(pk=booking.pk).update(
        starts_at=held, ends_at=held + datetime.timedelta(minutes=30)
    )
    booking.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        session = services.booking_session_log(
            organization=organization, booking=booking, notes="Went through the pricing page."
        )
    assert isinstance(session, MentoringSession)
    assert session.duration_minutes == 30
    assert session.held_on == booking.starts_at.astimezone(slot.zone).date()
    assert list(
        SessionAttendance.objects.for_organization(organization)
        .filter(session=session)
        .values_list("enrollment_id", flat=True)
    ) == [mentee.pk]
    booking.refresh_from_db()
    assert (booking.status, booking.session_id) == ("held", session.pk)
    rating_requests = [m for m in mail.outbox if mentee.participant.email in m.to]
    assert len(rating_requests) == 1 and "/mentor/rate/" in rating_requests[0].body
    with pytest.raises(ValidationError):
        services.booking_session_log(organization=organization, booking=booking, now=booking.ends_at)


def test_withdrawing_a_slot_cancels_its_bookings_and_tells_both(organization, slot, mentee):
    booking = book(organization, mentee, slot)
    services.slot_withdraw(organization=organization, slot=slot)
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == ("cancelled", "mentor")
    assert outbox(organization, kind=Kind.OFFICE_HOURS_CANCELLED).count() == 2


# --- Two bookings at once (PostgreSQL, the application role, two connections) ------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bookings_at_once_one_wins_and_the_other_is_told(organization, slot, mentee, second_mentee):
    first_locked, release = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with rls.organization_context(organization.pk):
                outcome["first"] = book(organization, mentee, slot)
                first_locked.set()
                release.wait(10)  # commit only after the second has asked
        except Exception as error:  # noqa: BLE001 - reported by the assertions
            outcome["first"] = error
        finally:
            first_locked.set()
            connections.close_all()

    def second():
        try:
            with rls.organization_context(organization.pk):
                outcome["second"] = book(organization, second_mentee, slot)
        except Exception as error:  # noqa: BLE001
            outcome["second"] = error
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_locked.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)
    assert two.is_alive(), "the second booking waits for the first's lock"
    release.set()
    one.join(10)
    two.join(10)
    assert isinstance(outcome["first"], OfficeHourBooking)
    assert isinstance(outcome["second"], ValidationError)
    assert "Someone else has just booked this time" in " ".join(outcome["second"].messages)
    with rls.organization_context(organization.pk):
        active = OfficeHourBooking.objects.for_organization(organization).filter(status="booked")
        assert list(active.values_list("enrollment_id", flat=True)) == [mentee.pk]
