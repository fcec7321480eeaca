"""In headless Chromium: sign in with Kakao, Naver or Google through the local fake provider.

A program manager (English browser) finds the three buttons on the admin's log-in page,
presses "Sign in with Kakao", passes the (fake) provider and lands in the admin signed
in. A mentor with a Korean phone presses the Naver button on the portal's log-in page and
lands on their portal home in Korean. A stranger's Google account is turned away with a
page that says why. The browser may talk to the live server and to the fake provider
only (tests/fixtures/browser.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.utils import translation

from core.models import Membership
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.mentors import MentorFactory
from tests.fixtures.browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def korean(msgid: str) -> str:
    """Our Korean for ``msgid`` once the coordinator merged /tmp/ko/signin.tsv; English until then."""
    with translation.override("ko"):
        return translation.gettext(msgid)


@pytest.fixture
def world(transactional_db):
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-sso-journey", require_sso=True)
    pm = UserFactory(email="pm.sso@hanbit.test", name="Jamie Park", language="en")
    MembershipFactory(organization=organization, user=pm, role=Membership.Role.PROGRAM_MANAGER)
    mentor_user = UserFactory(email="mentor.sso@hanbit.test", name="이멘토", language="ko")
    MembershipFactory(organization=organization, user=mentor_user, role=Membership.Role.MENTOR)
    MentorFactory(organization=organization, user=mentor_user)
    return {"organization": organization, "pm": pm, "mentor": mentor_user}


def test_sign_in_with_kakao_naver_and_a_refused_google_account(world, fake_providers, browser_for, live_server):
    with browser_for("sso") as browser:
        browser.also_allowed.add(urlparse(fake_providers.base_url).netloc)

        # A program manager, English browser: the admin's log-in page → Kakao → the admin.
        page = browser.page(viewport=DESKTOP, locale="en-US")
        page.goto(f"{live_server.url}/admin/login/")
        buttons = page.locator("button.sso-button")
        assert buttons.all_inner_texts() == ["Sign in with Google", "Sign in with Kakao", "Sign in with Naver"]
        browser.shot(page, "01-admin-login-en")
        fake_providers.person("kakao", email=world["pm"].email, name="Jamie Park")
        page.get_by_role("button", name="Sign in with Kakao").click()
        page.wait_for_url(f"{live_server.url}/admin/")
        assert page.locator("#user-tools").inner_text().upper().count("JAMIE PARK") == 1
        assert ("kakao", "authorize") in fake_providers.calls and ("kakao", "profile") in fake_providers.calls
        browser.shot(page, "02-admin-signed-in-en")

        # The same organization refuses a password log-in and points at the buttons.
        other = browser.page(viewport=DESKTOP, locale="en-US")
        other.goto(f"{live_server.url}/admin/login/")
        other.fill("#id_username", world["pm"].email)
        other.fill("#id_password", "pass-for-tests")
        other.locator("#login-form input[type=submit]").click()
        assert "asks its members to sign in with Google, Kakao or Naver" in other.locator(".errornote").inner_text()
        browser.shot(other, "03-password-refused-en")

        # A mentor with a Korean phone: the portal's log-in page → Naver → the portal home, in Korean.
        phone = browser.page(viewport=PHONE, locale="ko-KR")
        phone.goto(f"{live_server.url}/mentor/login/")
        assert phone.locator("html").get_attribute("lang") == "ko"
        naver_label = korean("Sign in with Naver")
        assert phone.locator("button.sso-naver").inner_text().strip() == naver_label
        browser.shot(phone, "04-portal-login-ko")
        fake_providers.person("naver", email=world["mentor"].email, name="이멘토")
        phone.locator("button.sso-naver").click()
        phone.wait_for_url(f"{live_server.url}/mentor/")
        assert "로그아웃" in phone.content()  # the portal's Korean navigation: signed in
        browser.shot(phone, "05-portal-signed-in-ko")

        # A stranger's Google account: turned away, with the reason.
        stranger = browser.page(viewport=PHONE, locale="ko-KR")
        stranger.goto(f"{live_server.url}/mentor/login/")
        fake_providers.person("google", email="stranger@example.com")
        stranger.locator("button.sso-google").click()
        stranger.wait_for_load_state()
        assert stranger.locator(".sso-refusal").get_attribute("data-reason") == "unknown"
        assert stranger.locator(".sso-refusal").inner_text() == korean(
            "There is no account with this email address. Ask the program team of your organization "
            "to add you (or to invite you as a mentor), then sign in again."
        )
        browser.shot(stranger, "06-stranger-refused-ko")
