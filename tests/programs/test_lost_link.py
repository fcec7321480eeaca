"""Lost link recovery: a fresh home link by email, never saying whether the address is known."""

import datetime
import re
import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.models import Kind, Notification
from programs import links
from programs.models import Enrollment
from tests.factories.programs import (
    EnrollmentFactory,
    ParticipantFactory,
    RunFactory,
    TeamFactory,
    TeamMembershipFactory,
)


def unique_email(name="founder"):
    # The throttle counts in Redis across test runs: every test uses addresses of its own.
    return f"{name}-{uuid.uuid4().hex[:10]}@startup.test"


def lost_link_url(organization):
    return reverse("programs:lost_link", kwargs={"org_slug": organization.slug})


def ask(organization, email, *, client=None, address=None):
    client = client or Client()
    address = address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client.post(lost_link_url(organization), {"email": email}, REMOTE_ADDR=address)


def rows(organization):
    return list(Notification.objects.for_organization(organization).filter(kind=Kind.LOST_LINK))


@pytest.fixture
def founder(organization, always_open_settings):
    run = RunFactory(program__organization=organization)
    return EnrollmentFactory(
        run=run,
        participant=ParticipantFactory(organization=organization, email=unique_email(), language="en"),
    )


def test_the_page_asks_for_an_email(organization):
    response = Client().get(lost_link_url(organization) + "?lang=en")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Get a new link to your page" in page
    assert 'type="email"' in page
    assert response["Cache-Control"] == "no-store"


def test_a_known_address_gets_a_fresh_home_link_by_mail(organization, founder, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(organization, founder.participant.email.upper())
    assert response.status_code == 200
    (row,) = rows(organization)
    assert row.recipient == founder.participant.email
    assert row.subject_key == f"enrollment:{founder.id}"
    assert row.language == "en"
    assert row.status == Notification.Status.SENT
    (message,) = mail.outbox
    assert message.to == [founder.participant.email]
    # The link in the mail opens this founder's home page.
    token = re.search(r"/p/([^/\s]+)/", message.body).group(1)
    claims = links.participant_token_read(token)
    assert (claims.enrollment_id, claims.purpose) == (founder.id, links.PURPOSE_HOME)


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(organization, founder):
    known = ask(organization, founder.participant.email)
    unknown = ask(organization, unique_email("nobody"))
    assert known.status_code == unknown.status_code == 200

    def visible(response):
        page = response.content.decode()
        return page.replace(founder.participant.email, "").split("<main>")[1].split("</main>")[0]

    assert visible(known).replace('value=""', "") == visible(unknown).replace('value=""', "")
    assert len(rows(organization)) == 1


def test_asking_twice_in_a_row_sends_one_link(organization, founder):
    ask(organization, founder.participant.email)
    ask(organization, founder.participant.email)
    assert len(rows(organization)) == 1


def test_a_team_member_gets_the_link_of_the_teams_enrollment(organization, always_open_settings):
    run = RunFactory(program__organization=organization)
    member = ParticipantFactory(organization=organization, email=unique_email("member"))
    team = TeamFactory(organization=organization)
    TeamMembershipFactory(team=team, participant=member)
    enrollment = EnrollmentFactory(run=run, team=team, participant=None)
    ask(organization, member.email)
    (row,) = rows(organization)
    assert (row.recipient, row.subject_key) == (member.email, f"enrollment:{enrollment.id}")


def test_dropped_enrollments_and_finished_runs_get_nothing(organization, always_open_settings):
    dropped = EnrollmentFactory(
        run=RunFactory(program__organization=organization),
        participant=ParticipantFactory(organization=organization, email=unique_email("dropped")),
        status=Enrollment.Status.DROPPED,
    )
    finished = EnrollmentFactory(
        run=RunFactory(program__organization=organization, status="finished"),
        participant=ParticipantFactory(organization=organization, email=unique_email("alumni")),
    )
    assert ask(organization, dropped.participant.email).status_code == 200
    assert ask(organization, finished.participant.email).status_code == 200
    assert rows(organization) == []


def test_another_organizations_participant_gets_nothing_from_this_page(
    organization, other_organization, always_open_settings, other_always_open_settings
):
    stranger = EnrollmentFactory(
        run=RunFactory(program__organization=other_organization),
        participant=ParticipantFactory(organization=other_organization, email=unique_email("stranger")),
    )
    response = ask(organization, stranger.participant.email)
    assert response.status_code == 200
    assert rows(organization) == []
    assert rows(other_organization) == []
    assert mail.outbox == []


def test_an_unknown_organization_is_404(db):
    assert Client().get(reverse("programs:lost_link", kwargs={"org_slug": "no-such-org"})).status_code == 404


def test_a_bad_address_is_a_form_error_not_a_500(organization):
    response = Client().post(lost_link_url(organization) + "?lang=en", {"email": "not an email"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()


def test_too_many_requests_for_one_email_are_refused_without_saying_whether_it_exists(organization, founder):
    email = founder.participant.email
    for _ in range(3):
        assert ask(organization, email).status_code == 200
    refused = ask(organization, email)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "Too many requests" in refused.content.decode()
    nobody = unique_email("nobody")
    for _ in range(3):
        ask(organization, nobody)
    assert ask(organization, nobody).status_code == 429  # the same for an unknown address


def test_too_many_requests_from_one_client_address_are_refused(organization):
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    codes = [ask(organization, unique_email(), address=address).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429


def test_the_page_of_an_expired_link_points_to_the_lost_link_page(organization, founder):
    token = links.participant_token(founder, now=0, valid_days=1)  # expired long ago
    response = Client().get(reverse("programs:participant", kwargs={"token": token}) + "?lang=en")
    assert response.status_code == 410
    assert lost_link_url(organization) in response.content.decode()


def test_a_broken_link_names_no_organization(organization):
    response = Client().get(reverse("programs:participant", kwargs={"token": "broken-token"}) + "?lang=en")
    assert response.status_code == 400
    assert "lost-link" not in response.content.decode()


def test_lost_link_can_be_switched_off(organization, founder, always_open_settings):
    always_open_settings.enabled_kinds = [k.value for k in Kind if k != Kind.LOST_LINK]
    always_open_settings.save()
    assert ask(organization, founder.participant.email).status_code == 200
    assert rows(organization) == []


def test_the_link_goes_out_after_quiet_hours(organization):
    from tests.factories.notifications import NotificationSettingsFactory

    NotificationSettingsFactory(organization=organization, quiet_hours_start=0, quiet_hours_end=23, send_hour=23)
    enrollment = EnrollmentFactory(
        run=RunFactory(program__organization=organization),
        participant=ParticipantFactory(organization=organization, email=unique_email()),
    )
    from notifications.services import lost_link_send

    night = datetime.datetime(2026, 3, 10, 16, 0, tzinfo=datetime.UTC)  # 01:00 in Seoul
    assert lost_link_send(organization=organization, email=enrollment.participant.email, now=night) == 1
    (row,) = rows(organization)
    assert row.scheduled_for.astimezone(datetime.timezone(datetime.timedelta(hours=9))).hour == 23
