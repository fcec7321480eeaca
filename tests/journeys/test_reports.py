"""A program manager reads outcomes beside process health, in headless Chromium, in Korean and English.

Against a live server connected as the application role: the run's outcomes page and the
organization-wide view across runs, on the constructed run of
tests/assessments/test_outcomes_report.py (numbers worked out by hand there).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.services import framework_create_default
from core.models import Membership, User
from tests.assessments.test_outcomes_report import build_run, build_stage_surveys
from tests.factories.core import MembershipFactory, OrganizationFactory, UserFactory
from tests.factories.programs import RunFactory
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PASSWORD = "pm-pass-for-report-journey"
EMAIL = "pm.reports@hanbit.test"


@pytest.fixture
def world(transactional_db):
    organization = OrganizationFactory(name="한빛창업학교", slug="hanbit-reports-journey")
    user = UserFactory(email=EMAIL, name="이서연", language="ko")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(organization=organization, user=user, role=Membership.Role.PROGRAM_MANAGER)
    framework = framework_create_default(organization=organization)
    built = build_run(organization, framework, user, name="2026 봄 기수")
    autumn = RunFactory(program=built.run.program, name="2026 가을 기수")
    build_stage_surveys(autumn)
    return organization, built, autumn


def _log_in(page, url):
    page.goto(f"{url}/admin/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")


def _text(page, selector: str) -> str:
    return " ".join(page.locator(selector).inner_text().split())


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_a_program_manager_reads_the_run_outcomes_and_all_runs(world, live_server, browser_for, locale):
    organization, built, autumn = world
    url = live_server.url
    language = locale[:2]
    User.objects.filter(email=EMAIL).update(language=language)  # the person's chosen language, as the browser's
    with browser_for(f"reports-{language}") as browser:
        page = browser.page(viewport=DESKTOP, locale=locale)
        _log_in(page, url)
        assert page.locator("html").get_attribute("lang") == language

        # From the windows list to the organization-wide view, then to the run.
        page.goto(f"{url}{reverse('admin:assessments_assessmentwindow_changelist')}")
        page.click(f"a[href='{reverse('admin:assessments_organization_outcomes', args=[organization.pk])}']")
        page.wait_for_selector("#organization-outcomes")
        browser.shot(page, "01-all-runs")
        row = _text(page, f"tr[data-run='{built.run.pk}']")
        for shown in ("2026 봄 기수", "33.3%", "25.0%", "+1.50", "+0.50", "+2.00", "0.5", "3.0", "4.0"):
            assert shown in row, (shown, row)

        page.click(f"tr[data-run='{built.run.pk}'] a")
        page.wait_for_selector("#run-outcomes")
        browser.shot(page, "02-run")
        assert "33.3%" in _text(page, "#kpi-completion") and "4/12" in _text(page, "#kpi-completion")
        assert "25.0%" in _text(page, "#kpi-on-time") and "2/8" in _text(page, "#kpi-on-time")
        assert _text(page, "#kpi-check-ins").startswith("0.5")
        assert _text(page, "#kpi-silent").startswith("3")
        assert "3.0" in _text(page, "#kpi-response") and "5" in _text(page, "#kpi-response")
        assert _text(page, "#kpi-sessions").startswith("3")
        assert "4.0 / 5" in _text(page, "#kpi-rating")
        assert "+2.00" in _text(page, "#growth-by-role tr[data-role='pm']")
        mentors = _text(page, "#mentors")
        assert "Mentor One" in mentors and "Mentor Two" in mentors and "6.0" in mentors
        assert "(+2.00)" in _text(page, "#participants")
        if language == "en":
            assert "fewer than 3 ratings" in mentors
            assert "Outcomes" in _text(page, "#outcomes h3") and "Process health" in _text(page, "#process h3")

        # Silent for more than 16 days: B and C only.
        page.fill("input[name=silent_days]", "16")
        page.click("#run-outcomes form button[type=submit]")
        page.wait_for_url("**silent_days=16")
        assert _text(page, "#kpi-silent").startswith("2")
        browser.shot(page, "03-run-silent-16")

        with page.expect_download() as download:
            page.click("#run-outcomes a.button")
        assert download.value.suggested_filename == f"outcomes-run-{built.run.pk}.csv"

        # The other run's value-gap surveys, read per stage.
        page.goto(f"{url}{reverse('admin:assessments_organization_outcomes', args=[organization.pk])}")
        page.click(f"tr[data-run='{autumn.pk}'] a")
        page.wait_for_selector("#run-outcomes")
        page.click(f"a[href='{reverse('admin:assessments_run_survey_stages', args=[autumn.pk])}']")
        page.wait_for_selector("#survey-stages")
        browser.shot(page, "04-value-gaps-by-stage")
        header = _text(page, "#gap-matrix thead").casefold()  # headers are upper-cased by the admin's CSS
        assert header.index("interview stage") < header.index("demo day stage")
        weekly = _text(page, "#gap-matrix tbody tr:has-text('Weekly mentoring')")
        assert "-2.00 (n=2)" in weekly and "0.00 (n=2)" in weekly and "-2.00 (n=1)" in weekly
        assert "< 3" in _text(page, "section[data-stage]:first-of-type")
        assert "Whole run check" in _text(page, "section[data-stage='run']")  # the survey without a stage
