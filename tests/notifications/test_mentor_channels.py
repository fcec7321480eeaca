"""A mentor chooses their own channels in the portal (``/mentor/channels/``).

The same choices a program manager sets in the admin, for the kinds a mentor receives,
saved by ``services.channel_profile_update``; only ever the profile of the mentor's
email in the active organization.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.middleware import ACTIVE_ORGANIZATION_SESSION_KEY
from notifications import services
from notifications.models import Channel, ChannelProfile, Kind
from notifications.portal_views import MENTOR_KINDS
from tests.factories.core import UserFactory
from tests.factories.mentors import MentorFactory
from tests.factories.notifications import NotificationSettingsFactory

PAGE = "/mentor/channels/"
SLACK_ID = "U012AB3CD"
TEAMS_URL = "https://teams.example.com/workflows/hook/abc"


@pytest.fixture
def portal(admin_client_for, mentor_user, portal_mentor):
    """The portal mentor, logged in, reading English."""
    mentor_user.language = "en"
    mentor_user.save()
    return admin_client_for(mentor_user)


@pytest.fixture
def slack_connected(organization):
    return services.channel_credentials_update(organization=organization, slack_bot_token="xoxb-test-token")


def _profile(organization, email="mentor@hanbit.test"):
    return ChannelProfile.objects.for_organization(organization).filter(email=email).first()


def _post(client, data):
    body = {"slack_member_id": "", "teams_webhook_url": ""}
    body.update(data)
    return client.post(PAGE, body)


# --- the service ---------------------------------------------------------------------------------


def test_the_service_changes_only_the_kinds_it_is_given_and_leaves_the_rest(organization):
    services.channel_profile_update(
        organization=organization,
        email="Mentor@Hanbit.test",
        choices={Kind.DIGEST_PM.value: [Channel.SLACK.value], Kind.DIGEST_MENTOR.value: [Channel.SLACK.value]},
    )
    profile = services.channel_profile_update(
        organization=organization,
        email="mentor@hanbit.test",
        choices={Kind.DIGEST_MENTOR.value: [Channel.EMAIL.value], Kind.WELCOME.value: [Channel.KAKAO.value]},
        only_kinds=[Kind.DIGEST_MENTOR.value, Kind.GOAL_CHECKIN_DUE.value],
    )
    assert profile.choices == {Kind.DIGEST_PM.value: ["slack"], Kind.DIGEST_MENTOR.value: ["email"]}
    assert ChannelProfile.objects.for_organization(organization).count() == 1


# --- the page ------------------------------------------------------------------------------------


def test_the_route_is_the_portals():
    assert reverse("mentors:channels") == PAGE


def test_the_profile_page_links_to_it(portal):
    assert f'href="{PAGE}"' in portal.get(reverse("mentors:profile")).content.decode()


def test_a_mentor_picks_slack_for_one_kind_and_it_is_saved(portal, organization, reminder_settings, slack_connected):
    page = portal.get(PAGE)
    assert page.status_code == 200
    assert f'name="kind__{Kind.DIGEST_MENTOR.value}" value="slack"' in page.content.decode()
    response = _post(
        portal,
        {
            "slack_member_id": SLACK_ID,
            f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.SLACK.value],
            f"kind__{Kind.HELP_REQUEST_NEW.value}": [Channel.EMAIL.value, Channel.SLACK.value],
        },
    )
    assert response.status_code == 302 and response["Location"] == PAGE
    profile = _profile(organization)
    assert profile.slack_member_id == SLACK_ID
    assert profile.choices[Kind.DIGEST_MENTOR.value] == [Channel.SLACK.value]
    assert profile.choices[Kind.HELP_REQUEST_NEW.value] == [Channel.EMAIL.value, Channel.SLACK.value]
    assert profile.choices[Kind.GOAL_CHECKIN_DUE.value] == [Channel.EMAIL.value]  # nothing ticked: email
    again = portal.get(PAGE)
    assert "Your channel choices are saved." in again.content.decode()
    assert again.context["form"][f"kind__{Kind.DIGEST_MENTOR.value}"].value() == [Channel.SLACK.value]
    assert again.context["form"]["slack_member_id"].value() == SLACK_ID


def test_until_the_mentor_chooses_the_page_shows_the_organizations_defaults(portal, organization):
    NotificationSettingsFactory(organization=organization, staff_channels=[Channel.EMAIL.value, Channel.TEAMS.value])
    form = portal.get(PAGE).context["form"]
    for kind in MENTOR_KINDS:
        assert form[f"kind__{kind.value}"].value() == [Channel.EMAIL.value, Channel.TEAMS.value]
    services.channel_profile_update(
        organization=organization,
        email="mentor@hanbit.test",
        choices={Kind.DIGEST_MENTOR.value: [Channel.TEAMS.value]},
        teams_webhook_url=TEAMS_URL,
    )
    page = portal.get(PAGE)
    form = page.context["form"]
    assert form[f"kind__{Kind.DIGEST_MENTOR.value}"].value() == [Channel.TEAMS.value]  # their choice
    assert form[f"kind__{Kind.GOAL_CHECKIN_DUE.value}"].value() == [Channel.EMAIL.value, Channel.TEAMS.value]
    assert "Email, Microsoft Teams" in page.content.decode()


def test_only_the_kinds_a_mentor_receives_are_shown_and_the_others_are_kept(portal, organization, slack_connected):
    enabled = [kind.value for kind in Kind if kind != Kind.SURVEY_REMINDER]
    NotificationSettingsFactory(organization=organization, enabled_kinds=enabled)
    # A program manager set a kind of theirs for the same person in the admin.
    services.channel_profile_update(
        organization=organization,
        email="mentor@hanbit.test",
        choices={Kind.DIGEST_PM.value: [Channel.SLACK.value], Kind.DIGEST_MENTOR.value: [Channel.SLACK.value]},
        slack_member_id=SLACK_ID,
    )
    form = portal.get(PAGE).context["form"]
    shown = {name.removeprefix("kind__") for name in form.fields if name.startswith("kind__")}
    assert shown == {kind.value for kind in MENTOR_KINDS} - {Kind.SURVEY_REMINDER.value}
    assert not shown & {Kind.WELCOME.value, Kind.DIGEST_PM.value, Kind.LOST_LINK.value, Kind.OFFICE_HOURS_BOOKED.value}
    response = _post(portal, {"slack_member_id": SLACK_ID, f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.EMAIL.value]})
    assert response.status_code == 302
    choices = _profile(organization).choices
    assert choices[Kind.DIGEST_MENTOR.value] == [Channel.EMAIL.value]
    assert choices[Kind.DIGEST_PM.value] == [Channel.SLACK.value]  # kept
    assert Kind.SURVEY_REMINDER.value not in choices


def test_without_the_organizations_slack_token_slack_is_not_offered_and_it_says_why(
    portal, organization, reminder_settings
):
    page = portal.get(PAGE)
    body = page.content.decode()
    assert 'value="slack"' not in body and 'name="slack_member_id"' not in body
    assert "has not connected its Slack workspace yet" in body
    assert 'name="teams_webhook_url"' in body  # Teams needs only the mentor's own URL
    response = _post(portal, {f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.SLACK.value]})
    assert response.status_code == 200 and response.context["form"].errors
    assert _profile(organization) is None


def test_with_the_token_there_is_no_such_sentence(portal, reminder_settings, slack_connected):
    assert "has not connected its Slack workspace yet" not in portal.get(PAGE).content.decode()


# --- bad input: form errors, nothing saved, never a 500 -------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"slack_member_id": "", f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.SLACK.value]},
            "slack_member_id",
        ),  # no member id
        (
            {"slack_member_id": "not-an-id", f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.SLACK.value]},
            "slack_member_id",
        ),  # the model's rule, through the service
        ({f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.TEAMS.value]}, "teams_webhook_url"),  # no URL
        (
            {f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.TEAMS.value], "teams_webhook_url": "not a url"},
            "teams_webhook_url",
        ),
        (
            {f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.TEAMS.value], "teams_webhook_url": "http://127.0.0.1/hook"},
            "teams_webhook_url",
        ),  # a private address, refused by the service
        ({f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.KAKAO.value]}, f"kind__{Kind.DIGEST_MENTOR.value}"),
        ({f"kind__{Kind.DIGEST_MENTOR.value}": ["pigeon"]}, f"kind__{Kind.DIGEST_MENTOR.value}"),
    ],
    ids=["slack-no-id", "slack-bad-id", "teams-no-url", "teams-not-a-url", "teams-private", "kakao", "unknown"],
)
def test_bad_input_is_a_form_error_and_changes_nothing(
    portal, organization, reminder_settings, slack_connected, data, field
):
    before = services.channel_profile_update(
        organization=organization,
        email="mentor@hanbit.test",
        choices={Kind.HELP_REQUEST_NEW.value: [Channel.EMAIL.value]},
    )
    # Valid choices beside the bad one: none of them is saved either.
    body = {
        "slack_member_id": SLACK_ID,
        f"kind__{Kind.HELP_REQUEST_NEW.value}": [Channel.EMAIL.value, Channel.SLACK.value],
        **data,
    }
    response = _post(portal, body)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()
    after = _profile(organization)
    assert (after.choices, after.slack_member_id, after.teams_webhook_url, after.updated_at) == (
        before.choices,
        "",
        "",
        before.updated_at,
    )


def test_a_teams_url_is_never_shown_back_and_an_empty_field_keeps_it(portal, organization, reminder_settings):
    response = _post(portal, {"teams_webhook_url": TEAMS_URL, f"kind__{Kind.DIGEST_MENTOR.value}": ["teams"]})
    assert response.status_code == 302
    page = portal.get(PAGE).content.decode()
    assert TEAMS_URL not in page and "Leave empty to keep the saved value" in page
    response = _post(portal, {f"kind__{Kind.DIGEST_MENTOR.value}": [Channel.TEAMS.value, Channel.EMAIL.value]})
    assert response.status_code == 302  # the saved URL counts
    profile = _profile(organization)
    assert profile.teams_webhook_url == TEAMS_URL
    assert profile.choices[Kind.DIGEST_MENTOR.value] == [Channel.TEAMS.value, Channel.EMAIL.value]


def test_a_get_with_a_query_or_another_method_saves_nothing(portal, organization, reminder_settings):
    assert portal.get(PAGE, {f"kind__{Kind.DIGEST_MENTOR.value}": "teams"}).status_code == 200
    assert portal.put(PAGE).status_code == 405
    assert _profile(organization) is None


# --- who may --------------------------------------------------------------------------------------


def test_anonymous_visitors_go_to_the_portal_login(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mentors:login"))


def test_a_member_who_is_not_a_mentor_gets_the_clear_page(admin_client_for, program_manager, organization):
    response = admin_client_for(program_manager).post(PAGE, {f"kind__{Kind.DIGEST_MENTOR.value}": ["email"]})
    assert response.status_code == 403
    assert _profile(organization, "pm@hanbit.test") is None


def test_a_mentor_of_two_organizations_sees_and_changes_only_the_active_ones(
    portal, organization, other_organization, mentor_user, reminder_settings, slack_connected
):
    MentorFactory(organization=other_organization, user=mentor_user)
    services.channel_credentials_update(organization=other_organization, slack_bot_token="xoxb-other")
    theirs = services.channel_profile_update(
        organization=other_organization,
        email=mentor_user.email,
        choices={Kind.DIGEST_MENTOR.value: [Channel.SLACK.value]},
        slack_member_id="UOTHERORG1",
    )
    portal.post(reverse("mentors:switch_organization"), {"organization": organization.pk})
    page = portal.get(PAGE)
    assert page.wsgi_request.organization == organization
    assert "UOTHERORG1" not in page.content.decode()
    assert page.context["form"][f"kind__{Kind.DIGEST_MENTOR.value}"].value() == [Channel.EMAIL.value]
    response = _post(portal, {"slack_member_id": SLACK_ID, f"kind__{Kind.DIGEST_MENTOR.value}": ["email", "slack"]})
    assert response.status_code == 302
    assert _profile(organization).slack_member_id == SLACK_ID
    unchanged = _profile(other_organization)
    assert (unchanged.choices, unchanged.slack_member_id, unchanged.updated_at) == (
        theirs.choices,
        "UOTHERORG1",
        theirs.updated_at,
    )
    # Switched to the other organization: its own profile, not ours.
    portal.post(reverse("mentors:switch_organization"), {"organization": other_organization.pk})
    page = portal.get(PAGE)
    assert SLACK_ID not in page.content.decode()
    assert page.context["form"]["slack_member_id"].value() == "UOTHERORG1"


def test_a_mentor_of_another_organization_cannot_read_or_change_ours(
    admin_client_for, organization, other_organization, portal_mentor, reminder_settings
):
    ours = services.channel_profile_update(
        organization=organization,
        email="mentor@hanbit.test",
        choices={Kind.DIGEST_MENTOR.value: [Channel.TEAMS.value]},
        teams_webhook_url=TEAMS_URL,
    )
    stranger = UserFactory(email="mentor@other.test", language="en")
    MentorFactory(organization=other_organization, user=stranger)
    client = admin_client_for(stranger)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = organization.pk  # a forged choice of our organization
    session.save()
    page = client.get(PAGE)
    assert page.status_code == 200 and page.wsgi_request.organization == other_organization  # their own
    assert organization.name not in page.content.decode()
    assert page.context["form"][f"kind__{Kind.DIGEST_MENTOR.value}"].value() == [Channel.EMAIL.value]
    assert (
        client.post(PAGE, {f"kind__{Kind.DIGEST_MENTOR.value}": ["email"], "teams_webhook_url": ""}).status_code == 302
    )
    assert _profile(other_organization, "mentor@other.test").choices[Kind.DIGEST_MENTOR.value] == ["email"]
    after = _profile(organization)
    assert (after.choices, after.updated_at) == (ours.choices, ours.updated_at)
    assert ChannelProfile.objects.for_organization(organization).count() == 1
    assert not ChannelProfile.objects.for_organization(organization).filter(email="mentor@other.test").exists()


# --- cost -----------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_however_much_is_saved(portal, organization, reminder_settings):
    empty = _queries(portal, PAGE)
    services.channel_credentials_update(organization=organization, slack_bot_token="xoxb-test-token")
    services.channel_profile_update(
        organization=organization,
        email="mentor@hanbit.test",
        choices={kind.value: [Channel.EMAIL.value, Channel.SLACK.value] for kind in Kind},
        slack_member_id=SLACK_ID,
        teams_webhook_url=TEAMS_URL,
    )
    for number in range(15):
        services.channel_profile_update(
            organization=organization,
            email=f"someone{number}@hanbit.test",
            choices={Kind.DIGEST_MENTOR.value: [Channel.SLACK.value]},
        )
    assert _queries(portal, PAGE) == empty
