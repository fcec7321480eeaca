"""A program manager runs a cohort in the Django admin, in headless Chromium (desktop, Korean).

Against a live server connected as the application role: create a program with
milestone templates and a run, plan backwards from the deadline, import a CP949 CSV
with one bad row (the row report says which), fix it and import, move the deadline
through its preview, then open the dashboard, the cohort report, the outbox and its
14-day preview. Each step asserts what the page shows.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from core.models import Membership
from programs.models import Enrollment, Milestone, Program, Run
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "pm-pass-for-browser-tests"

BAD_CSV = "이름,이메일,회사\n김민지,minji@startup.test,동네상점\n이준호,not-an-email,옆집가게\n".encode("cp949")
GOOD_CSV = "이름,이메일,회사\n김민지,minji@startup.test,동네상점\n이준호,junho@startup.test,옆집가게\n".encode("cp949")


@pytest.fixture
def program_manager_login(transactional_db):
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-pm-journey")
    user = UserFactory(email="pm.browser@hanbit.test", name="이서연", language="ko")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(organization=organization, user=user, role=Membership.Role.PROGRAM_MANAGER)
    return organization


def _log_in(page, url):
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", "pm.browser@hanbit.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def test_a_program_manager_plans_imports_replans_and_reads_the_reports(
    program_manager_login, live_server, browser_for, tmp_path
):
    organization = program_manager_login
    url = live_server.url
    today = datetime.date.today()
    deadline = today + datetime.timedelta(days=60)
    bad, good = tmp_path / "참가자.csv", tmp_path / "participants.csv"
    bad.write_bytes(BAD_CSV)
    good.write_bytes(GOOD_CSV)

    with browser_for("program-manager") as browser:
        page = browser.page(viewport=DESKTOP)
        _log_in(page, url)
        assert "한빛창업학교" in page.inner_text("body")
        browser.shot(page, "01-index")

        page.goto(f"{url}/admin/programs/program/add/")
        page.fill("input[name=name]", "고객 발견 부트캠프")
        add_row = page.locator(".inline-group .add-row a").first
        add_row.click()
        add_row.click()
        page.fill("input[name=milestone_templates-0-name]", "고객 인터뷰 20건")
        page.fill("input[name=milestone_templates-0-days_before_deadline]", "21")
        page.fill("input[name=milestone_templates-1-name]", "데모데이 발표 자료")
        page.fill("input[name=milestone_templates-1-days_before_deadline]", "3")
        browser.shot(page, "02-program-form")
        page.click("input[name=_save]")
        page.wait_for_url(f"{url}/admin/programs/program/")
        assert page.locator("ul.messagelist li.success").count() == 1
        program = Program.objects.for_organization(organization).get()

        # Saved again with its templates on the page: the form posts the existing rows back.
        page.goto(f"{url}/admin/programs/program/{program.pk}/change/")
        assert page.input_value("input[name=milestone_templates-0-name]") == "고객 인터뷰 20건"
        page.fill("input[name=milestone_templates-0-name]", "고객 인터뷰 25건")
        page.click("input[name=_save]")
        page.wait_for_url(f"{url}/admin/programs/program/")
        assert page.locator("ul.messagelist li.success").count() == 1, page.inner_text("#content")[:500]
        assert sorted(program.milestone_templates.values_list("name", flat=True)) == [
            "고객 인터뷰 25건",
            "데모데이 발표 자료",
        ]

        page.goto(f"{url}/admin/programs/run/add/")
        page.select_option("select[name=program]", str(program.pk))
        page.fill("input[name=name]", "12기")
        page.fill("input[name=starts_on]", f"{today:%Y-%m-%d}")
        page.fill("input[name=ends_on]", f"{deadline + datetime.timedelta(days=30):%Y-%m-%d}")
        page.fill("input[name=final_deadline]", f"{deadline:%Y-%m-%d}")
        browser.shot(page, "03-run-form")
        with page.expect_navigation():
            page.click("input[name=_save]")
        browser.shot(page, "03b-run-saved")
        assert page.locator("ul.messagelist li.success").count() == 1, page.inner_text("#content")[:500]
        run = Run.objects.for_organization(organization).get()

        page.goto(f"{url}{reverse('admin:programs_run_plan', args=[run.pk])}")
        browser.shot(page, "03-plan-preview")
        assert "고객 인터뷰 25건" in page.inner_text("#content")
        page.locator("#content form input[type=submit], #content form button[type=submit]").first.click()
        page.wait_for_url(f"{url}/admin/programs/run/{run.pk}/change/")
        assert page.locator("ul.messagelist li.success").count() == 1
        browser.shot(page, "04-run-planned")

        page.goto(f"{url}{reverse('admin:programs_run_import', args=[run.pk])}")
        page.set_input_files("input[name=file]", str(bad))
        page.locator("#content form input[type=submit]").first.click()
        page.wait_for_load_state()
        browser.shot(page, "05-import-row-report")
        assert page.locator(".errornote").count() == 1
        assert "not-an-email" in page.inner_text("#content")
        assert not Enrollment.objects.for_organization(organization).exists()  # nothing half-imported

        page.set_input_files("input[name=file]", str(good))
        page.locator("#content form input[type=submit]").first.click()
        page.wait_for_load_state()
        browser.shot(page, "06-import-preview")
        page.locator("form:has(input[name=confirm]) [type=submit]").first.click()
        page.wait_for_url(f"{url}/admin/programs/run/{run.pk}/change/")
        assert page.locator("ul.messagelist li.success").count() == 1
        assert Enrollment.objects.for_organization(organization).count() == 2

        new_deadline = deadline + datetime.timedelta(days=14)
        page.goto(f"{url}{reverse('admin:programs_run_move_deadline', args=[run.pk])}")
        page.fill("input[name=final_deadline]", f"{new_deadline:%Y-%m-%d}")
        page.locator("#content form [type=submit]").first.click()
        page.wait_for_load_state()
        browser.shot(page, "07-deadline-preview")
        assert f"{new_deadline:%Y-%m-%d}" in page.inner_text("#content")
        page.locator("form:has(input[name=confirm]) [type=submit]").first.click()
        page.wait_for_url(f"{url}/admin/programs/run/{run.pk}/change/")
        assert f"{new_deadline:%Y-%m-%d}" in page.inner_text("ul.messagelist")

        # The run page with its milestones, enrollments and mentors inline saves as a whole.
        page.fill("input[name=name]", "12기 봄")
        with page.expect_navigation():
            page.click("input[name=_save]")
        assert page.locator("ul.messagelist li.success").count() == 1, page.inner_text("#content")[:500]
        assert Run.objects.for_organization(organization).get().name == "12기 봄"

        for name, args, shot in (
            ("admin:programs_run_dashboard", [run.pk], "08-dashboard"),
            ("admin:assessments_cohort_report", [run.pk], "09-cohort-report"),
            ("admin:notifications_notification_changelist", [], "10-outbox"),
            ("admin:notifications_notification_preview", [], "11-outbox-preview"),
        ):
            response = page.goto(f"{url}{reverse(name, args=args)}")
            assert response.status == 200, name
            assert page.locator("#content h1").first.inner_text().strip(), name
            browser.shot(page, shot)
            if name == "admin:programs_run_dashboard":
                assert "김민지" in page.inner_text("#content") or "2" in page.inner_text("#content")

    run.refresh_from_db()
    assert run.final_deadline == new_deadline
    interviews = Milestone.objects.for_organization(organization).get(name="고객 인터뷰 25건")
    assert interviews.due_on <= new_deadline - datetime.timedelta(days=21)


def test_a_program_manager_sees_a_message_of_unknown_outcome_and_sends_it_again(
    program_manager_login, live_server, browser_for
):
    """A worker was lost mid-send: the dashboard says so, the outbox lists it, one action sends it again."""
    from django.core import mail

    from notifications import services
    from notifications.models import Notification
    from tests.factories.notifications import NotificationFactory, NotificationSettingsFactory
    from tests.factories.programs import RunFactory

    organization = program_manager_login
    NotificationSettingsFactory(
        organization=organization, quiet_hours_start=0, quiet_hours_end=0, working_days=[1, 2, 3, 4, 5, 6, 7]
    )
    run = RunFactory(program__organization=organization, name="2026 봄 기수")
    row = NotificationFactory(
        organization=organization, run=run, recipient="minji@startup.test", subject_line="마감 알림: 고객 인터뷰"
    )
    Notification.objects.for_organization(organization).filter(pk=row.pk).update(
        status=Notification.Status.UNCERTAIN, attempts=1, last_error="워커 중단"
    )
    url = live_server.url

    with browser_for("program-manager-uncertain") as browser:
        page = browser.page(viewport=DESKTOP)
        _log_in(page, url)

        page.goto(f"{url}{reverse('admin:programs_run_dashboard', args=[run.pk])}")
        banner = page.locator("ul.delivery-health").inner_text()
        assert "1건이 수신자에게 전달되었는지 알 수 없습니다" in banner
        browser.shot(page, "01-dashboard-banner")

        page.click("ul.delivery-health a")
        page.wait_for_url("**/notifications/notification/?status__exact=uncertain*")
        assert "minji@startup.test" in page.inner_text("#result_list")
        assert "결과 불명" in page.inner_text("#result_list")
        browser.shot(page, "02-outbox-uncertain")

        page.check("#result_list input[name=_selected_action]")
        page.select_option("select[name=action]", "retry_selected")
        page.click("button[name=index]")
        page.wait_for_selector("ul.messagelist li.success")
        assert "1" in page.inner_text("ul.messagelist li.success")
        browser.shot(page, "03-sent-again")

        # The relay it rang sent it (a worker would, within seconds); the outbox says so.
        page.goto(f"{url}{reverse('admin:notifications_notification_change', args=[row.pk])}")
        assert "보냄" in page.inner_text("#content")
        browser.shot(page, "04-row-sent")

    assert Notification.objects.for_organization(organization).get(pk=row.pk).status == Notification.Status.SENT
    assert [m.subject for m in mail.outbox] == ["마감 알림: 고객 인터뷰"]
    assert services.notification_relay(organization=organization).sent == 0  # once
