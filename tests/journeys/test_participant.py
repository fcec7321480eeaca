"""A founder on a phone, in headless Chromium, against a live server connected as the application role.

The founder opens the link in a reminder from the outbox, updates a milestone, then
uses their home link to check in, to ask for help in AID form, and to read the
mentor's reply. Every form is
posted by the browser itself (real Origin and Referer handling, real CSRF cookie), and
every step asserts what the founder sees on the screen.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from notifications import services as notification_services
from notifications.models import Notification
from programs import links
from programs import services as program_services
from programs.models import CheckIn, HelpRequest, MentorAssignment, MilestoneProgress
from tests.factories.core import OrganizationFactory, UserFactory
from tests.factories.mentors import MentorFactory
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, ParticipantFactory, ProgramFactory, RunFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def founder(transactional_db, live_server, settings):
    """A running cohort with a founder whose milestones are due (committed: the server thread sees it)."""
    settings.PUBLIC_BASE_URL = live_server.url + "/"  # links in emails point at the server that runs
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-journey")
    today = timezone.localdate()
    run = RunFactory(
        program=ProgramFactory(organization=organization, name="고객 발견 부트캠프"),
        name="12기",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=45),
        final_deadline=today + datetime.timedelta(days=40),
    )
    participant = ParticipantFactory(
        organization=organization, name="김민지", company="동네상점", email="minji@startup.test", language="ko"
    )
    enrollment = EnrollmentFactory(run=run, participant=participant)
    mentor = MentorFactory(organization=organization, user=UserFactory(email="mentor@hanbit.test", name="박서준"))
    program_services.mentor_assign(organization=organization, run=run, mentor=mentor, enrollment=enrollment)
    for days_ago in (2, 1, 0, -1, -3, -7):  # some reminder is due today, whatever the rules say
        MilestoneFactory(
            run=run,
            name=f"고객 인터뷰 {days_ago + 10}건",
            days_before_deadline=40 + days_ago,
            due_on=today - datetime.timedelta(days=days_ago),
        )
    return enrollment


def _link_in_outbox(enrollment) -> str:
    organization = enrollment.organization
    notification_services.notifications_plan(organization=organization, respect_send_window=False)
    # A milestone reminder (its link opens the progress page); the welcome email links the home page.
    bodies = (
        Notification.objects.for_organization(organization)
        .filter(recipient=enrollment.participant.email, kind__startswith="milestone_")
        .order_by("id")
    )
    for body in bodies.values_list("body_text", flat=True):
        found = re.search(r"https?://\S+/p/[^\s/]+/", body)
        if found:
            return found.group(0)
    raise AssertionError(f"no participant link in {list(bodies.values_list('subject_line', flat=True))}")


def test_a_founder_updates_a_milestone_from_an_email_then_checks_in_asks_for_help_and_reads_the_reply(
    founder, browser_for
):
    organization = founder.organization
    mentor = MentorAssignment.objects.for_organization(organization).get().mentor
    link = _link_in_outbox(founder)
    with browser_for("participant") as browser:
        page = browser.page()
        page.goto(link)
        browser.shot(page, "01-progress-from-email")
        assert page.locator("h1").first.is_visible()
        form = page.locator("form").first
        form.locator("select[name=status]").select_option("submitted")
        form.locator("input[name=evidence_url]").fill("https://docs.example/interviews")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**saved=1**")
        assert page.locator(".notice").inner_text().strip() == "진행 상황을 저장했습니다."
        browser.shot(page, "02-progress-saved")

        home = links.participant_link(founder, base_url=f"http://{browser.server}")
        page.goto(home)
        assert "김민지" in page.inner_text("h1")
        browser.shot(page, "03-home")
        page.get_by_role("link", name="체크인").first.click()
        page.fill("textarea[name=done]", "고객 인터뷰 5건을 마쳤습니다.")
        page.fill("textarea[name=next]", "랜딩 페이지를 공개합니다.")
        page.check("input[name=confidence][value='4']")
        browser.shot(page, "04-check-in")
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**saved=1**")
        browser.shot(page, "05-check-in-saved")
        assert page.locator(".notice").count() == 1

        page.goto(home)
        assert "고객 인터뷰 5건을 마쳤습니다." in page.inner_text("body")  # the latest check-in is listed
        page.get_by_role("link", name="도움 요청").first.click()
        page.fill("textarea[name=act]", "가격 페이지를 두 가지로 실험했습니다.")
        page.fill("textarea[name=impact]", "전환이 0건이라 다음 주 공개가 어렵습니다.")
        page.fill("textarea[name=desired_outcome]", "지불 의사 확인 방법에 대해 30분 조언을 받고 싶어요.")
        browser.shot(page, "06-help")
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**saved=1**")
        browser.shot(page, "07-help-saved")
        assert page.locator(".notice").count() == 1

        page.goto(home)
        assert "아직 답변이 없습니다." in page.inner_text(".help-request")
        help_request = HelpRequest.objects.for_organization(organization).get()
        program_services.help_request_reply(  # the mentor answers in the portal (its own journey)
            organization=organization,
            help_request=help_request,
            mentor=mentor,
            author=mentor.user,
            body="목요일에 가짜 문 테스트를 같이 설계해 봐요.",
        )
        page.reload()
        browser.shot(page, "08-home-with-reply")
        assert "목요일에 가짜 문 테스트를 같이 설계해 봐요." in page.inner_text(".help-request .reply")
        assert "박서준" in page.inner_text(".help-request .reply strong")

    assert MilestoneProgress.objects.for_organization(organization).get().status == "submitted"
    assert CheckIn.objects.for_organization(organization).get().confidence == 4
    assert HelpRequest.objects.for_organization(organization).get().enrollment == founder


def test_a_founder_makes_the_home_their_own_reads_a_reply_and_finds_the_open_survey(founder, browser_for):
    """On a phone: the home holds the mentor's answer, the founder's own words (edited here) and what is open."""
    from assessments.models import SurveyResponse
    from core.models import AuditEvent
    from tests.factories.assessments import ValueStatementFactory, ValueSurveyFactory

    organization = founder.organization
    mentor = MentorAssignment.objects.for_organization(organization).get().mentor
    founder.commitments = "매주 고객 5명 인터뷰\n금요일마다 체크인"
    founder.save()
    help_request = program_services.help_request_create(
        organization=organization,
        enrollment=founder,
        act="가격 페이지를 두 가지로 실험했습니다.",
        impact="전환이 0건입니다.",
        desired_outcome="지불 의사를 확인하는 방법을 알고 싶어요.",
    )
    program_services.help_request_reply(
        organization=organization,
        help_request=help_request,
        mentor=mentor,
        author=mentor.user,
        body="목요일에 가짜 문 테스트를 같이 설계해 봐요.",
    )
    survey = ValueSurveyFactory(program=founder.run.program, run=founder.run, title="12기 중간 가치 설문")
    ValueStatementFactory(survey=survey, text="매주 멘토링")

    with browser_for("participant-home") as browser:
        page = browser.page()
        page.goto(f"http://{browser.server}" + links.participant_link(founder))
        browser.shot(page, "01-home")
        assert "김민지" in page.inner_text("h1")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

        # The mentor's answer is on the founder's own page, under their request.
        request_card = page.locator(".help-request").first
        assert "가격 페이지를 두 가지로 실험했습니다." in request_card.inner_text()
        assert "목요일에 가짜 문 테스트를 같이 설계해 봐요." in request_card.locator(".reply").inner_text()
        assert "박서준" in request_card.locator(".reply strong").inner_text()

        # Every commitment is its own item, not only the first.
        items = page.locator(".commitment-list li")
        assert items.all_inner_texts() == ["매주 고객 5명 인터뷰", "금요일마다 체크인"]

        # The founder rewrites their definition of success and adds a commitment.
        page.locator("#my-commitments details.edit summary").click()
        page.fill("textarea[name=success_definition]", "데모데이 전까지 돈을 내는 고객 3곳")
        page.fill("textarea[name=commitments]", "매주 고객 5명 인터뷰\n금요일마다 체크인\n가격 실험 주 1회")
        browser.shot(page, "02-editing-commitments")
        page.locator("#my-commitments form button[type=submit]").click()
        page.wait_for_url("**saved=commitments**")
        browser.shot(page, "03-commitments-saved")
        assert page.locator("#my-commitments .notice").is_visible()
        assert "데모데이 전까지 돈을 내는 고객 3곳" in page.inner_text("#my-commitments .success-definition")
        assert page.locator(".commitment-list li").all_inner_texts() == [
            "매주 고객 5명 인터뷰",
            "금요일마다 체크인",
            "가격 실험 주 1회",
        ]

        # The open survey is one tap away, and opens for this founder.
        survey_card = page.locator(".todo.survey")
        assert "12기 중간 가치 설문" in survey_card.inner_text()
        survey_card.locator("a.button").click()
        page.wait_for_load_state()
        browser.shot(page, "04-survey")
        assert "12기 중간 가치 설문" in page.inner_text("body")
        assert "매주 멘토링" in page.inner_text("body")

    founder.refresh_from_db()
    assert founder.success_definition == "데모데이 전까지 돈을 내는 고객 3곳"
    assert founder.commitments.splitlines()[-1] == "가격 실험 주 1회"
    trail = AuditEvent.objects.for_organization(organization).filter(object_id=str(founder.pk), action="update")
    assert any("success_definition" in event.changes for event in trail)
    assert not SurveyResponse.objects.for_organization(organization).exists()  # opened, not answered
