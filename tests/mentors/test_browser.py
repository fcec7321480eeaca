"""The mentor portal in a real browser (Debian's Chromium, headless, phone-sized).

A mentor logs in, creates a goal, checks in on it and replies to a help request.
Screenshots of every step go to test-artifacts/mentors/ (git-ignored).
"""

import re
from pathlib import Path

import pytest
from django.core import mail

from core.models import Membership
from mentors.models import DevelopmentGoal, GoalCheckIn, SessionRating
from programs import services as program_services
from programs.models import HelpRequest, HelpRequestReply
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.mentors import MentorFactory
from tests.factories.programs import EnrollmentFactory, ParticipantFactory, ProgramFactory, RunFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "mentors"
PHONE = {"width": 390, "height": 844}
PASSWORD = "portal-pass-for-tests"

pytestmark = pytest.mark.browser


@pytest.fixture
def portal_world(transactional_db):
    """A mentor with a password, a mentee and an open help request (committed: the server thread sees it)."""
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-browser")
    user = UserFactory(email="browser.mentor@hanbit.test", name="박서준", language="ko")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(organization=organization, user=user, role=Membership.Role.MENTOR)
    mentor = MentorFactory(organization=organization, user=user)
    run = RunFactory(program=ProgramFactory(organization=organization, name="고객 발견 부트캠프"), name="2026 봄 기수")
    mentee = EnrollmentFactory(
        run=run, participant=ParticipantFactory(organization=organization, name="김민지", company="동네상점")
    )
    program_services.mentor_assign(organization=organization, run=run, mentor=mentor, enrollment=mentee)
    help_request = program_services.help_request_create(
        organization=organization,
        enrollment=mentee,
        act="동네 가게 사장님 12명을 인터뷰했지만 아무도 돈을 내겠다고 하지 않았어요.",
        impact="다음 주에 가격 페이지를 공개해야 합니다.",
        desired_outcome="지불 의사를 확인하는 방법에 대해 30분 조언을 받고 싶어요.",
    )
    return {
        "organization": organization,
        "mentor": mentor,
        "help_request": help_request,
        "mentee_email": mentee.participant.email,
    }


CSP_REFUSED: list[str] = []


def _watch_csp(message) -> None:
    """What the Content-Security-Policy refused on a portal page (an inline handler would not run)."""
    if "Content Security Policy" in message.text:
        CSP_REFUSED.append(message.text)


@pytest.fixture(autouse=True)
def _no_csp_violation():
    CSP_REFUSED.clear()
    yield
    assert CSP_REFUSED == [], f"refused by the Content-Security-Policy: {CSP_REFUSED}"


def test_a_mentor_logs_in_sets_a_goal_checks_in_and_answers_a_help_request(
    live_server, portal_world, chromium_path, monkeypatch
):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls below
    # happen outside the browser block, but Django checks the loop, not the timing.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    organization = portal_world["organization"]

    def shot(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=PHONE, device_scale_factor=1, locale="ko-KR")
        page.on("console", _watch_csp)
        try:
            page.goto(f"{live_server.url}/mentor/login/")
            shot(page, "01-login")
            page.fill("input[name=username]", "browser.mentor@hanbit.test")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/mentor/")
            shot(page, "02-home")

            page.goto(f"{live_server.url}/mentor/goals/new/")
            page.fill("input[name=title]", "첫 창업자 워크숍 진행하기")
            page.fill("textarea[name=why_it_matters]", "한 번에 여러 팀을 돕는 것이 다음 단계입니다.")
            page.fill("input[name=target_date]", "2026-12-15")
            page.check("input[name=visibility][value=shared]")
            page.fill("input[name=kr-0-title]", "진행한 워크숍")
            page.fill("input[name=kr-0-start_value]", "0")
            page.fill("input[name=kr-0-target_value]", "4")
            page.fill("input[name=kr-0-unit]", "회")
            shot(page, "03-goal-form")
            page.click("button[type=submit]:not(.link)")
            page.wait_for_url("**/mentor/goals/*/")
            goal_url = page.url

            page.click("a[href$='/check-in/']")
            page.wait_for_url("**/check-in/")
            page.fill("input[name^=value_]", "2")
            page.check("input[name=confidence][value='4']")
            page.fill("textarea[name=note]", "첫 워크숍을 마쳤습니다.")
            shot(page, "04-check-in")
            page.click("button[type=submit]:not(.link)")
            page.wait_for_url(goal_url)
            assert page.locator("svg.chart polyline").count() == 1
            assert "50%" in page.content()
            shot(page, "05-goal-detail")

            page.goto(f"{live_server.url}/mentor/mentees/")
            shot(page, "06-mentees")
            page.fill("textarea[name=body]", "목요일에 가짜 문 테스트를 같이 설계해 봐요.")
            page.click("form[action*='/reply/'] button[type=submit]")
            page.wait_for_url(f"{live_server.url}/mentor/mentees/")
            assert page.locator(".messages li.success").count() == 1
            shot(page, "07-replied")

            page.goto(f"{live_server.url}/mentor/sessions/new/")
            page.fill("input[name=held_on]", "2026-04-07")
            page.fill("input[name=topics]", "지불 의사 검증")
            page.check("input[name=attendees]")
            shot(page, "08-session-form")
            page.click("button[type=submit]:not(.link)")
            page.wait_for_url("**/mentor/sessions/*/")
            shot(page, "09-session-detail")

            # The mentee opens the rating link from the email the session sent, on their phone.
            # (The mentee's mail also holds the answer to their help request, sent when the mentor replied.)
            rating_mail = next(
                m for m in mail.outbox if m.to == [portal_world["mentee_email"]] and "/mentor/rate/" in m.body
            )
            rating_link = re.search(r"https?://\S+/mentor/rate/[^\s/]+/", rating_mail.body).group(0)
            mentee_page = browser.new_page(viewport=PHONE, device_scale_factor=1, locale="ko-KR")
            mentee_page.goto(rating_link.replace("http://testserver", live_server.url))
            shot(mentee_page, "09a-rating-form")
            mentee_page.check("input[name=score][value='5']")
            mentee_page.fill("textarea[name=comment]", "가짜 문 테스트 설계가 큰 도움이 됐어요.")
            mentee_page.click("button[type=submit]")
            mentee_page.wait_for_load_state()
            shot(mentee_page, "09b-rating-thanks")
            assert mentee_page.inner_text("h1") == "감사합니다"  # the thank-you page, not the form again
            page.goto(f"{live_server.url}/mentor/goals/")
            shot(page, "10-goal-list")
        finally:
            browser.close()

    goal = DevelopmentGoal.objects.for_organization(organization).get()
    assert goal.visibility == DevelopmentGoal.Visibility.SHARED
    assert GoalCheckIn.objects.for_organization(organization).get().progress == 50
    help_request = HelpRequest.objects.for_organization(organization).get()
    assert help_request.status == HelpRequest.Status.ANSWERED and help_request.first_response_at is not None
    assert HelpRequestReply.objects.for_organization(organization).get().mentor == portal_world["mentor"]
    assert (ARTIFACTS / "07-replied.png").stat().st_size > 0
    rating = SessionRating.objects.for_organization(organization).get()
    assert (rating.score, rating.comment) == (5, "가짜 문 테스트 설계가 큰 도움이 됐어요.")


def test_an_invited_mentor_accepts_in_english_and_lands_in_the_portal(
    live_server, transactional_db, chromium_path, monkeypatch
):
    from playwright.sync_api import sync_playwright

    from mentors import services

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    organization = OrganizationFactory(name="Northwind Founders", slug="northwind-browser", language="en")
    _invitation, token = services.invitation_create(
        organization=organization, email="ava@example.com", name="Ava Brooks", language="en", message="Welcome aboard!"
    )
    link = f"{live_server.url}/mentor/join/{organization.slug}/{token}/"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=PHONE, device_scale_factor=1)
        page.on("console", _watch_csp)
        try:
            page.goto(link)
            page.fill("input[name=password1]", "a-long-unusual-pass-42")
            page.fill("input[name=password2]", "a-long-unusual-pass-42")
            page.screenshot(path=str(ARTIFACTS / "11-invitation-accept.png"), full_page=True)
            page.click("button[type=submit]:not(.link)")
            page.wait_for_url(f"{live_server.url}/mentor/profile/")
            assert "Welcome!" in page.content()
            page.screenshot(path=str(ARTIFACTS / "12-profile-after-joining.png"), full_page=True)
            page.goto(link)
            assert "already been used" in page.content()
            page.screenshot(path=str(ARTIFACTS / "13-invitation-used.png"), full_page=True)
        finally:
            browser.close()

    from mentors import selectors

    user = selectors.mentor_engagements_for_user(user=_user("ava@example.com")).get().user
    assert user.name == "Ava Brooks" and user.check_password("a-long-unusual-pass-42")


def _user(email):
    from core.models import User

    return User.objects.get(email=email)
