"""Log-in protection: repeated wrong passwords pause an account's log-ins from that address (django-axes)."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.fixtures.browser import DESKTOP

PASSWORD = "pass-for-tests"
ADMIN_LOGIN = "/admin/login/"
PORTAL_LOGIN = "/mentor/login/"


def _try(client, url, email, password, address="203.0.113.7"):
    form = {"username": email, "password": password, "next": "/admin/"}
    return client.post(url, form, REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="ko")


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_pause_the_admin_log_in_even_with_the_right_one(program_manager):
    client = Client()
    for _ in range(4):
        assert _try(client, ADMIN_LOGIN, program_manager.email, "wrong").status_code == 200  # the form again
    paused = _try(client, ADMIN_LOGIN, program_manager.email, "wrong")
    assert paused.status_code == 429
    right = _try(client, ADMIN_LOGIN, program_manager.email, PASSWORD)
    assert right.status_code == 429 and not _logged_in(client)
    page = right.content.decode()
    assert "로그인 시도가 너무 많습니다" in page and "15분" in page


def test_the_pause_is_per_account_and_address_and_ends_after_the_cool_off(program_manager, owner):
    client = Client()
    for _ in range(5):
        _try(client, ADMIN_LOGIN, program_manager.email, "wrong")
    # Someone else at the same address, and the same person elsewhere, are not paused.
    assert _try(Client(), ADMIN_LOGIN, owner.email, PASSWORD).status_code == 302
    assert _try(Client(), ADMIN_LOGIN, program_manager.email, PASSWORD, address="198.51.100.9").status_code == 302

    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    later = Client()
    assert _try(later, ADMIN_LOGIN, program_manager.email, PASSWORD).status_code == 302
    assert _logged_in(later)


def test_a_successful_log_in_resets_the_count(program_manager):
    for _ in range(4):
        _try(Client(), ADMIN_LOGIN, program_manager.email, "wrong")
    assert _try(Client(), ADMIN_LOGIN, program_manager.email, PASSWORD).status_code == 302
    for _ in range(4):
        _try(Client(), ADMIN_LOGIN, program_manager.email, "wrong")
    assert _try(Client(), ADMIN_LOGIN, program_manager.email, PASSWORD).status_code == 302


def test_the_mentor_portal_log_in_is_protected_too(organization):
    from tests.factories.mentors import MentorFactory

    mentor = MentorFactory(organization=organization)
    client = Client()
    for _ in range(5):
        _try(client, PORTAL_LOGIN, mentor.user.email, "wrong")
    right = _try(client, PORTAL_LOGIN, mentor.user.email, PASSWORD)
    assert right.status_code == 429 and not _logged_in(client)


@pytest.mark.browser
@pytest.mark.postgres
def test_a_program_manager_who_mistypes_sees_why_log_in_stopped(transactional_db, live_server, browser_for):
    from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory

    user = UserFactory(email="pm.lockout@hanbit.test", language="ko")
    MembershipFactory(organization=OrganizationFactory(slug="hanbit-lockout"), user=user, role=30)
    with browser_for("login-lockout") as browser:
        page = browser.page(viewport=DESKTOP, locale="ko-KR")
        for _ in range(5):
            page.goto(f"{live_server.url}{ADMIN_LOGIN}")
            page.fill("input[name=username]", user.email)
            page.fill("input[name=password]", "wrong-password")
            page.click("input[type=submit]")
        text = page.inner_text("main")
        assert "로그인 시도가 너무 많습니다" in text and "15분 뒤에 다시 시도하세요" in text
        browser.shot(page, "01-paused")
