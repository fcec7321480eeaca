"""Office hours in the API (read-only, mentors scope group) and in the admin (per run, per mentor)."""

import pytest
from django.urls import reverse

from officehours import services
from officehours.models import OfficeHourBooking
from tests.factories.mentors import MentorFactory
from tests.factories.officehours import OfficeHourBookingFactory, OfficeHourSlotFactory

pytestmark = pytest.mark.django_db


def api(organization, path):
    return f"/api/v1/orgs/{organization.slug}/{path}"


def ids(response):
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def booking(organization, slot, mentee):
    return services.booking_create(
        organization=organization, enrollment=mentee, slot_id=slot.pk, starts_at=slot.starts_at
    )


def test_a_mentor_reads_their_own_slots_and_a_pm_reads_all(
    api_client_for, mentor_user, program_manager, organization, slot, booking
):
    theirs = OfficeHourSlotFactory(mentor=MentorFactory(organization=organization))
    as_mentor = api_client_for(mentor_user)
    assert ids(as_mentor.get(api(organization, "office-hour-slots/"))) == {slot.pk}
    as_pm = api_client_for(program_manager)
    assert ids(as_pm.get(api(organization, "office-hour-slots/"))) == {slot.pk, theirs.pk}
    row = as_pm.get(api(organization, f"office-hour-bookings/?run={booking.run_id}")).json()["results"][0]
    assert (row["id"], row["status"], row["sequence"], row["mentor"]) == (booking.pk, "booked", 0, slot.mentor_id)
    detail = as_pm.get(api(organization, f"office-hour-slots/{slot.pk}/")).json()
    assert detail["occurrences"] == [slot.starts_at.isoformat().replace("+00:00", "Z")]
    assert as_pm.post(api(organization, "office-hour-slots/"), {}, format="json").status_code == 405


def test_another_organizations_slots_and_bookings_answer_404(
    api_client_for, other_program_manager, organization, slot, booking
):
    foreign = api_client_for(other_program_manager)
    assert foreign.get(api(organization, "office-hour-slots/")).status_code == 404
    own = other_program_manager.memberships.first().organization
    assert foreign.get(api(own, f"office-hour-slots/{slot.pk}/")).status_code == 404
    assert foreign.get(api(own, f"office-hour-bookings/{booking.pk}/")).status_code == 404
    assert foreign.get(api(own, "office-hour-bookings/")).json()["results"] == []


def test_an_api_key_needs_the_mentors_scope(client, api_key_for, organization, slot):
    _key, secret = api_key_for(organization, scopes=["programs:read"])
    url = api(organization, "office-hour-slots/")
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403
    _key, secret = api_key_for(organization, scopes=["mentors:read"])
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_the_api_list_makes_the_same_queries_for_few_or_many(
    api_client_for, program_manager, organization, portal_mentor
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client_for(program_manager)
    counts = {}
    for total in (1, 8):
        while OfficeHourBooking.objects.for_organization(organization).count() < total:
            OfficeHourBookingFactory(slot=OfficeHourSlotFactory(mentor=portal_mentor))
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(api(organization, "office-hour-bookings/")).json()["results"]) == total
        counts[total] = len(captured)
    assert counts[1] == counts[8], counts


def test_a_pm_sees_bookings_per_run_and_mentor_and_cancels_one(
    admin_client_for, program_manager, organization, booking
):
    admin = admin_client_for(program_manager)
    changelist = reverse("admin:officehours_officehourbooking_changelist")
    response = admin.get(changelist, {"run__id__exact": booking.run_id, "mentor": booking.mentor_id})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    response = admin.get(changelist, {"mentor": MentorFactory(organization=organization).pk})
    assert response.context["cl"].result_count == 0
    response = admin.post(changelist, {"action": "cancel_selected", "_selected_action": [booking.pk]})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == ("cancelled", "manager")


def test_the_admin_refuses_another_organizations_booking(admin_client_for, other_program_manager, booking):
    admin = admin_client_for(other_program_manager)
    url = reverse("admin:officehours_officehourbooking_change", args=[booking.pk])
    assert admin.get(url).status_code == 404
    changelist = admin.get(reverse("admin:officehours_officehourbooking_changelist"))
    assert changelist.context["cl"].result_count == 0
