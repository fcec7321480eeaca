"""Two-step verification for the admin: turn it on, log in with a code or a recovery code, require it."""

import re
import time

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fixtures.browser import DESKTOP

PASSWORD = "pass-for-tests"
SETUP = "admin:two_factor"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the authenticator app shows (``steps_ahead`` 30-second steps later: a code not used yet)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def log_in(client, email, code=""):
    return client.post(
        reverse("admin:login"), {"username": email, "password": PASSWORD, "otp_token": code, "next": "/admin/"}
    )


def turn_on(client, user) -> list[str]:
    page = client.get(reverse(SETUP))
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post(reverse(SETUP), {"code": code_for(device)})
    codes = re.findall(r"<li>([0-9a-f]{4}-[0-9a-f]{4})</li>", done.content.decode())
    assert len(codes) == 10
    return codes


def test_a_program_manager_turns_it_on_and_then_needs_a_code_to_log_in(program_manager):
    client = Client()
    assert log_in(client, program_manager.email).status_code == 302
    turn_on(client, program_manager)
    device = TOTPDevice.objects.get(user=program_manager, confirmed=True)

    fresh = Client()
    without = log_in(fresh, program_manager.email)
    assert without.status_code == 200 and "authenticator" in without.content.decode()
    assert "_auth_user_id" not in fresh.session
    assert log_in(fresh, program_manager.email, "000000").status_code == 200
    time.sleep(1.1)  # django-otp slows down guessing: after a wrong code the next try waits a second
    assert log_in(fresh, program_manager.email, code_for(device, steps_ahead=1)).status_code == 302
    assert fresh.session.get("otp_device_id")  # the session is verified
    assert fresh.get(reverse("admin:index")).status_code == 200


def test_a_recovery_code_logs_in_once(program_manager):
    client = Client()
    log_in(client, program_manager.email)
    codes = turn_on(client, program_manager)
    assert log_in(Client(), program_manager.email, codes[0]).status_code == 302
    assert log_in(Client(), program_manager.email, codes[0]).status_code == 200  # used up
    time.sleep(1.1)
    assert log_in(Client(), program_manager.email, codes[1]).status_code == 302


def test_turning_it_off_needs_a_code(program_manager):
    client = Client()
    log_in(client, program_manager.email)
    codes = turn_on(client, program_manager)
    refused = client.post(reverse(SETUP), {"code": "123456", "action": "disable"})
    assert "not valid" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=program_manager, confirmed=True).exists()
    time.sleep(1.1)
    client.post(reverse(SETUP), {"code": codes[0], "action": "disable"})
    assert not TOTPDevice.objects.filter(user=program_manager).exists()
    assert log_in(Client(), program_manager.email).status_code == 302  # a password is enough again


def test_no_one_confirms_another_persons_authenticator(program_manager, other_program_manager):
    """The pending secret belongs to the logged-in user; another's code does not turn it on."""
    mine, theirs = Client(), Client()
    log_in(mine, program_manager.email)
    log_in(theirs, other_program_manager.email)
    mine.get(reverse(SETUP))
    their_device = TOTPDevice.objects.get(user=program_manager, confirmed=False)
    theirs.get(reverse(SETUP))
    response = theirs.post(reverse(SETUP), {"code": code_for(their_device)})
    assert "not valid" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


@override_settings(TWO_FACTOR_REQUIRED=True)
def test_when_required_managers_set_it_up_before_anything_else_and_viewers_are_not_asked(program_manager, viewer):
    client = Client()
    log_in(client, program_manager.email)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302 and index["Location"] == reverse(SETUP)
    assert client.get(reverse("admin:programs_run_changelist")).status_code == 302
    assert "asks owners and program managers" in client.get(reverse(SETUP)).content.decode()
    turn_on(client, program_manager)
    assert client.get(reverse("admin:index")).status_code == 200

    viewer_client = Client()
    log_in(viewer_client, viewer.email)
    assert viewer_client.get(reverse("admin:index")).status_code == 200


@pytest.mark.browser
@pytest.mark.postgres
def test_a_program_manager_turns_on_two_step_verification_in_the_browser(transactional_db, live_server, browser_for):
    from core.models import Membership
    from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="pm.otp@hanbit.test", language="ko")
    MembershipFactory(
        organization=OrganizationFactory(slug="hanbit-otp"), user=user, role=Membership.Role.PROGRAM_MANAGER
    )
    url = live_server.url
    with browser_for("two-step-verification") as browser:
        page = browser.page(viewport=DESKTOP)

        def fill_login(code=""):
            page.goto(f"{url}/admin/login/")
            page.fill("input[name=username]", user.email)
            page.fill("input[name=password]", PASSWORD)
            page.fill("input[name=otp_token]", code)
            page.click("input[type=submit]")

        fill_login()
        page.wait_for_url(f"{url}/admin/")
        page.click("text=2단계 인증")
        assert "휴대폰" in page.inner_text("#content")
        assert page.locator(".qr img").evaluate("img => img.naturalWidth") > 0  # the QR code is drawn
        browser.shot(page, "01-setup")
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        page.fill("input[name=code]", code_for(device))
        page.click("#content input[type=submit]")
        page.wait_for_selector("ul.recovery-codes li")
        assert page.locator("ul.recovery-codes li").count() == 10
        browser.shot(page, "02-recovery-codes")

        page.click("#logout-form button")
        fill_login()
        assert "인증 앱" in page.inner_text(".errornote")
        browser.shot(page, "03-code-needed")
        fill_login(code_for(TOTPDevice.objects.get(user=user, confirmed=True), steps_ahead=1))
        page.wait_for_url(f"{url}/admin/")
        assert "한빛" in page.inner_text("body") or page.url.endswith("/admin/")


def test_no_admin_page_lists_anyones_authenticator(program_manager, client):
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)
    client.force_login(program_manager)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
