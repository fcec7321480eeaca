"""Admin pages: scoped lists, program managers' assessments, reports with charts, from the wrong organization too."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Assessment
from assessments.services import assessment_submit, survey_response_submit
from tests.factories.assessments import AssessmentWindowFactory
from tests.factories.programs import EnrollmentFactory, MentorAssignmentFactory, ProgramsMentorFactory

CHANGELISTS = [
    "/admin/assessments/framework/",
    "/admin/assessments/level/",
    "/admin/assessments/assessmentwindow/",
    "/admin/assessments/assessment/",
    "/admin/assessments/valuesurvey/",
    "/admin/assessments/surveyresponse/",
]


@pytest.fixture
def pm_admin(program_manager, admin_client_for):
    return admin_client_for(program_manager)


@pytest.fixture
def other_admin(other_program_manager, admin_client_for):
    return admin_client_for(other_program_manager)


def pm_assess(window, enrollment, level, user):
    return assessment_submit(
        organization=window.organization,
        window=window,
        subject_enrollment=enrollment,
        assessor_role="pm",
        assessor_user=user,
        level=level,
    )


def fill_rows(run, window, survey, levels, program_manager, count):
    mentor = ProgramsMentorFactory(organization=run.organization)
    for _ in range(count):
        enrollment = EnrollmentFactory(run=run)
        MentorAssignmentFactory(run=run, mentor=mentor, enrollment=enrollment)
        pm_assess(window, enrollment, levels[2], program_manager)
        assessment_submit(
            organization=run.organization,
            window=window,
            subject_enrollment=enrollment,
            assessor_role="self",
            level=levels[3],
        )
        survey_response_submit(
            organization=run.organization,
            survey=survey,
            enrollment=enrollment,
            ratings={s.pk: (4, 2) for s in survey.statements.all()},
            own_values="Peers who tell the truth",
        )


def inline_management_data(client, url) -> dict:
    """The hidden inline fields (management forms, row ids) that a browser would send back."""
    import re

    body = client.get(url).content.decode()
    data = {}
    for tag in re.findall(r"<input[^>]+>", body):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and "-" in name.group(1) and ('type="hidden"' in tag or "FORMS" in name.group(1)):
            data[name.group(1)] = value.group(1) if value else ""
    return data


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def test_changelists_show_the_organizations_rows_with_a_constant_number_of_queries(
    pm_admin, run, open_window, survey, levels, program_manager
):
    fill_rows(run, open_window, survey, levels, program_manager, 1)
    few = {url: count_queries(pm_admin, url) for url in CHANGELISTS}
    fill_rows(run, open_window, survey, levels, program_manager, 4)
    AssessmentWindowFactory(run=run, framework=open_window.framework, kind="post")
    many = {url: count_queries(pm_admin, url) for url in CHANGELISTS}
    assert few == many


def test_another_organization_sees_none_of_it(
    other_admin, framework, open_window, survey, enrollment, levels, program_manager
):
    assessment = pm_assess(open_window, enrollment, levels[2], program_manager)
    for url in CHANGELISTS:
        body = other_admin.get(url).content.decode()
        assert "What we deliver" not in body and "고객 집착 레벨" not in body
    for url in [
        f"/admin/assessments/framework/{framework.pk}/change/",
        f"/admin/assessments/level/{levels[1].pk}/change/",
        f"/admin/assessments/assessmentwindow/{open_window.pk}/change/",
        f"/admin/assessments/assessment/{assessment.pk}/change/",
        f"/admin/assessments/valuesurvey/{survey.pk}/change/",
        f"/admin/assessments/assessmentwindow/report/{open_window.run_id}/",
        f"/admin/assessments/assessmentwindow/report/{open_window.run_id}/csv/",
        f"/admin/assessments/valuesurvey/{survey.pk}/report/",
        f"/admin/assessments/valuesurvey/{survey.pk}/report/csv/",
    ]:
        assert other_admin.get(url).status_code == 404, url


def test_a_program_manager_assesses_in_the_admin(pm_admin, open_window, enrollment, levels, program_manager):
    form_page = pm_admin.get("/admin/assessments/assessment/add/")
    assert form_page.status_code == 200 and "admin-autocomplete" in form_page.content.decode()
    indicator = levels[3].indicators.first()
    response = pm_admin.post(
        "/admin/assessments/assessment/add/",
        {
            "window": open_window.pk,
            "subject_enrollment": enrollment.pk,
            "level": levels[3].pk,
            "observed": [indicator.pk],
            "notes": "Brought three customers to the review",
            "links_text": "https://example.com/review",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assessment = Assessment.objects.for_organization(open_window.organization).get()
    assert assessment.assessor_role == "pm" and assessment.assessor_user == program_manager
    assert assessment.links == ["https://example.com/review"]
    assert [o.indicator for o in assessment.observations.all()] == [indicator]

    url = f"/admin/assessments/assessment/{assessment.pk}/change/"
    changed = pm_admin.post(
        url,
        {**inline_management_data(pm_admin, url), "level": levels[4].pk, "notes": "Even better", "links_text": ""},
    )
    assert changed.status_code == 302, changed.content.decode()[:3000]
    assessment.refresh_from_db()
    assert assessment.version == 2 and assessment.versions.count() == 2


def test_bad_admin_input_shows_a_form_error_and_saves_nothing(
    pm_admin, open_window, enrollment, other_framework, levels, program_manager
):
    foreign_level = other_framework.levels.get(number=2)
    response = pm_admin.post(
        "/admin/assessments/assessment/add/",
        {"window": open_window.pk, "subject_enrollment": enrollment.pk, "level": foreign_level.pk, "links_text": ""},
    )
    assert response.status_code == 200
    pm_assess(open_window, enrollment, levels[2], program_manager)
    second = pm_admin.post(
        "/admin/assessments/assessment/add/",
        {"window": open_window.pk, "subject_enrollment": enrollment.pk, "level": levels[3].pk, "links_text": "nope"},
    )
    body = second.content.decode()
    assert second.status_code == 200 and "errorlist" in body
    assert "is not a web address" in body
    assert Assessment.objects.for_organization(open_window.organization).count() == 1


def test_a_closed_windows_assessment_is_read_only(pm_admin, run, framework, enrollment, levels, program_manager):
    import datetime

    from django.utils import timezone

    window = AssessmentWindowFactory(run=run, framework=framework, kind="post")
    assessment = pm_assess(window, enrollment, levels[2], program_manager)
    window.closes_at = timezone.now() - datetime.timedelta(seconds=1)
    window.opens_at = timezone.now() - datetime.timedelta(days=3)
    window.save()
    response = pm_admin.post(
        f"/admin/assessments/assessment/{assessment.pk}/change/",
        {"level": levels[5].pk, "notes": "too late", "links_text": ""},
    )
    assert response.status_code == 403
    assessment.refresh_from_db()
    assert assessment.level == levels[2]
    assert pm_admin.get(f"/admin/assessments/assessment/{assessment.pk}/change/").status_code == 200


def test_the_cohort_report_page_draws_charts(pm_admin, run, open_window, survey, levels, program_manager):
    fill_rows(run, open_window, survey, levels, program_manager, 3)
    response = pm_admin.get(f"/admin/assessments/assessmentwindow/report/{run.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="cohort-report"' in body and 'class="bar consensus"' in body and "<svg" in body
    csv_response = pm_admin.get(f"/admin/assessments/assessmentwindow/report/{run.pk}/csv/")
    assert csv_response["Content-Type"].startswith("text/csv")


def test_the_survey_report_page_draws_the_grid(pm_admin, run, open_window, survey, levels, program_manager):
    fill_rows(run, open_window, survey, levels, program_manager, 3)
    body = pm_admin.get(f"/admin/assessments/valuesurvey/{survey.pk}/report/").content.decode()
    assert 'id="survey-report"' in body and "<circle" in body and "Peers who tell the truth" in body
    csv_response = pm_admin.get(f"/admin/assessments/valuesurvey/{survey.pk}/report/csv/")
    assert "Customer interviews" in csv_response.content.decode("utf-8-sig")


def test_report_pages_make_a_constant_number_of_queries(pm_admin, run, open_window, survey, levels, program_manager):
    fill_rows(run, open_window, survey, levels, program_manager, 2)
    urls = [
        f"/admin/assessments/assessmentwindow/report/{run.pk}/",
        f"/admin/assessments/valuesurvey/{survey.pk}/report/",
    ]
    few = [count_queries(pm_admin, url) for url in urls]
    fill_rows(run, open_window, survey, levels, program_manager, 6)
    assert [count_queries(pm_admin, url) for url in urls] == few


def test_anonymous_survey_answers_are_not_listed_in_the_admin(pm_admin, survey, enrollment):
    survey.is_anonymous = True
    survey.save()
    response = survey_response_submit(
        organization=survey.organization,
        survey=survey,
        enrollment=enrollment,
        ratings={s.pk: (4, 2) for s in survey.statements.all()},
    )
    assert pm_admin.get(f"/admin/assessments/surveyresponse/{response.pk}/change/").status_code in (302, 404)
    assert "What we deliver" not in pm_admin.get("/admin/assessments/surveyresponse/").content.decode()


def test_a_viewer_reads_reports_but_cannot_add_assessments(viewer, admin_client_for, run, open_window):
    client = admin_client_for(viewer)
    assert client.get(f"/admin/assessments/assessmentwindow/report/{run.pk}/").status_code == 200
    assert client.get("/admin/assessments/assessment/add/").status_code == 403
