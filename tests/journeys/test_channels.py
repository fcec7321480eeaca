"""Channels in headless Chromium against a live server (application role), in Korean and English.

* A founder opens their home link on a phone, follows "How I get messages" and picks
  KakaoTalk for the "due today" reminder; the choice is saved for them.
* A program manager registers an approved KakaoTalk template in the admin (a typo in a
  variable is a form error first) and sets the organization's Solapi account, whose
  secret is never shown again.
* A mentor logs in to the portal on a phone, follows "How I get messages" from their
  profile, enters their Slack member id and picks Slack for the weekly digest.

Every run asserts the words a person reads, in their language (from the catalogues).
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from core.models import Membership
from notifications import services as notification_services
from notifications.models import AlimTalkTemplate, Channel, ChannelCredentials, ChannelProfile, Kind
from programs import links
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.mentors import MentorFactory
from tests.factories.notifications import NotificationSettingsFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "pm-pass-for-channel-journey"


@pytest.fixture
def organization(transactional_db, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url + "/"
    organization = OrganizationFactory(name="한빛창업학교", slug=f"hanbit-ch-{uuid.uuid4().hex[:6]}")
    NotificationSettingsFactory(organization=organization)
    return organization


def _founder(organization, *, language: str, name: str):
    today = timezone.localdate()
    run = RunFactory(
        program=ProgramFactory(organization=organization, name="고객 발견 부트캠프"),
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=60),
        final_deadline=today + datetime.timedelta(days=55),
    )
    participant = ParticipantFactory(
        organization=organization,
        name=name,
        email=f"{language}-{uuid.uuid4().hex[:6]}@startup.test",
        language=language,
        phone="010-1234-5678",
    )
    return EnrollmentFactory(run=run, participant=participant)


def say(language: str, text) -> str:
    with translation.override(language):
        return str(translation.gettext(str(text)) if isinstance(text, str) else text)


@pytest.mark.parametrize(("language", "name"), [("ko", "김민지"), ("en", "Alex Kim")])
def test_a_founder_picks_kakaotalk_on_a_phone(organization, live_server, browser_for, language, name):
    enrollment = _founder(organization, language=language, name=name)
    home = links.participant_link(enrollment, base_url=live_server.url)
    with browser_for(f"channels-founder-{language}") as browser:
        page = browser.page(locale="ko-KR" if language == "ko" else "en-GB")
        page.goto(home)
        page.locator("#my-channels a.button").click()
        page.wait_for_url("**/n/channels/**")
        assert page.evaluate("document.documentElement.lang") == language
        assert name in page.inner_text("main")
        assert "+821012345678" in page.inner_text("main")  # the number normalised to E.164
        browser.shot(page, "01-channels")
        due_today = page.locator("fieldset", has_text=say(language, Kind.MILESTONE_DUE_TODAY.label))
        assert due_today.count() == 1
        due_today.get_by_label(say(language, "KakaoTalk (text message if it fails)")).check()
        due_today.get_by_label(say(language, "Email"), exact=True).uncheck()
        page.locator("form button[type=submit]").click()
        page.wait_for_selector("#channels-saved")
        browser.shot(page, "02-saved")
        assert say(language, "Saved. Messages will come the way you chose.") in page.inner_text("#channels-saved")
        assert page.is_checked(f"input[name=kind__{Kind.MILESTONE_DUE_TODAY.value}][value=kakao]")
    profile = ChannelProfile.objects.for_organization(organization).get(email=enrollment.participant.email)
    assert profile.choices[Kind.MILESTONE_DUE_TODAY.value] == [Channel.KAKAO.value]
    assert profile.choices[Kind.WELCOME.value] == [Channel.EMAIL.value]


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_program_manager_registers_a_kakaotalk_template_and_the_solapi_account(
    organization, live_server, browser_for, language
):
    user = UserFactory(email=f"pm-{uuid.uuid4().hex[:6]}@hanbit.test", name="이서연", language=language)
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(organization=organization, user=user, role=Membership.Role.PROGRAM_MANAGER)
    url = live_server.url
    with browser_for(f"channels-pm-{language}") as browser:
        page = browser.page(viewport=DESKTOP, locale="ko-KR" if language == "ko" else "en-GB")
        page.goto(f"{url}/admin/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{url}/admin/")

        page.goto(f"{url}{reverse('admin:notifications_alimtalktemplate_add')}")
        assert page.evaluate("document.documentElement.lang") == language
        page.select_option("#id_kind", Kind.MILESTONE_DUE_TODAY.value)
        page.select_option("#id_language", language)  # not the header's language switcher
        page.fill("input[name=template_id]", "KA01TP230126085130773ZHclHN4i674")
        page.fill("textarea[name=content]", "#{nmae}님, #{subject}")
        page.click("input[name=_save]")
        page.wait_for_selector(".errorlist")
        browser.shot(page, "01-template-typo")
        if language == "en":
            assert "Unknown variables: #{nmae}" in page.inner_text(".field-content .errorlist")
        assert page.locator(".field-kind .errorlist").count() == 0
        assert not AlimTalkTemplate.objects.for_organization(organization).exists()

        page.fill("textarea[name=content]", "#{name}님, #{subject}\n#{text}\n#{link}")
        page.click("input[name=_save]")
        page.wait_for_url(f"**{reverse('admin:notifications_alimtalktemplate_changelist')}**")
        row = page.locator("#result_list tbody tr").first
        assert "KA01TP230126085130773ZHclHN4i674" in row.inner_text()
        assert "#{name}, #{subject}, #{text}, #{link}" in row.inner_text()
        browser.shot(page, "02-template-list")

        page.goto(f"{url}{reverse('admin:notifications_channelcredentials_changelist')}")
        page.fill("input[name=solapi_api_key]", "NCSJOURNEYKEY01")
        page.fill("input[name=solapi_api_secret]", "journey-secret-never-shown")
        page.fill("input[name=kakao_pf_id]", "KA01PF2504270350090645hp8rQ1lvqL")
        page.fill("input[name=sms_sender]", "0212345678")
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        credentials = ChannelCredentials.objects.for_organization(organization).get()
        page.goto(f"{url}{reverse('admin:notifications_channelcredentials_change', args=[credentials.pk])}")
        browser.shot(page, "03-credentials-saved")
        assert page.input_value("input[name=solapi_api_secret]") == ""
        assert "journey-secret-never-shown" not in page.content()
        assert credentials.kakao_ready and credentials.solapi_api_secret == "journey-secret-never-shown"
    template = AlimTalkTemplate.objects.for_organization(organization).get()
    assert (template.kind, template.language) == (Kind.MILESTONE_DUE_TODAY.value, language)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_mentor_picks_slack_for_the_weekly_digest_in_the_portal(organization, live_server, browser_for, language):
    notification_services.channel_credentials_update(organization=organization, slack_bot_token="xoxb-journey-token")
    user = UserFactory(email=f"mentor-{uuid.uuid4().hex[:6]}@hanbit.test", name="Sam Lee", language=language)
    user.set_password(PASSWORD)
    user.save()
    MentorFactory(organization=organization, user=user)
    url = live_server.url
    digest = f"input[name=kind__{Kind.DIGEST_MENTOR.value}]"
    with browser_for(f"channels-mentor-{language}") as browser:
        page = browser.page(locale="ko-KR" if language == "ko" else "en-GB")  # a phone
        page.goto(f"{url}/mentor/login/")
        page.fill("input[name=username]", user.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("button[type=submit]").last.click()
        page.wait_for_url(f"{url}/mentor/")
        page.locator("nav.portal-nav a", has_text=say(language, "Profile")).click()
        page.locator("#my-channels a").click()
        page.wait_for_url(f"{url}/mentor/channels/")
        assert page.evaluate("document.documentElement.lang") == language
        assert page.locator("#slack-unavailable").count() == 0  # the workspace is connected
        assert say(language, "Where to reach me") in page.inner_text("main")
        assert page.is_checked(f"{digest}[value=email]")  # the organization's default
        browser.shot(page, "01-channels")
        page.fill("input[name=slack_member_id]", "U012AB3CD")
        weekly = page.get_by_role("group", name=say(language, Kind.DIGEST_MENTOR.label))
        weekly.get_by_label("Slack").check()
        weekly.get_by_label(say(language, "Email"), exact=True).uncheck()
        page.locator("#mentor-channels button[type=submit]").click()
        page.wait_for_selector(".messages li")
        browser.shot(page, "02-saved")
        assert say(language, "Your channel choices are saved.") in page.inner_text(".messages")
        assert page.is_checked(f"{digest}[value=slack]") and not page.is_checked(f"{digest}[value=email]")
        assert page.input_value("input[name=slack_member_id]") == "U012AB3CD"
        # The page fits a phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    profile = ChannelProfile.objects.for_organization(organization).get(email=user.email)
    assert profile.slack_member_id == "U012AB3CD"
    assert profile.choices[Kind.DIGEST_MENTOR.value] == [Channel.SLACK.value]
    assert profile.choices[Kind.HELP_REQUEST_NEW.value] == [Channel.EMAIL.value]
