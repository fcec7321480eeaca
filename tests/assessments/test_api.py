"""The assessments API: thin tests of each endpoint, every one also from the wrong organization."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Assessment, SurveyResponse
from assessments.services import assessment_submit, survey_response_submit
from tests.factories.assessments import AssessmentWindowFactory
from tests.factories.programs import EnrollmentFactory

BASE = "/api/v1/orgs/hanbit"
OTHER = "/api/v1/orgs/other"


@pytest.fixture
def pm_api(program_manager, api_client_for):
    return api_client_for(program_manager)


@pytest.fixture
def other_api(other_program_manager, api_client_for):
    return api_client_for(other_program_manager)


def error_attrs(response) -> dict:
    """Field errors of a problem+json 400: {attr: [detail, ...]}."""
    assert response.status_code == 400, response.content
    found: dict = {}
    for error in response.json().get("errors", []):
        found.setdefault(error.get("attr"), []).append(error["detail"])
    return found


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_frameworks_levels_and_indicators_are_listed(pm_api, framework):
    frameworks = rows(pm_api.get(f"{BASE}/frameworks/"))
    assert [f["key"] for f in frameworks] == ["customer-obsession"]
    levels = rows(pm_api.get(f"{BASE}/levels/", {"framework": framework.pk}))
    assert [level["number"] for level in levels] == [0, 1, 2, 3, 4, 5]
    assert len(levels[3]["indicators"]) == 3 and levels[3]["name_ko"] == "고객과 협업"
    assert len(rows(pm_api.get(f"{BASE}/indicators/", {"level__framework": framework.pk}))) == 18


def test_an_organization_defines_another_framework(pm_api, organization):
    response = pm_api.post(
        f"{BASE}/frameworks/",
        {"key": "teamwork", "name_en": "Teamwork", "name_ko": "팀워크", "consensus_method": "mean"},
        format="json",
    )
    assert response.status_code == 201, response.content
    framework_id = response.json()["id"]
    level = pm_api.post(f"{BASE}/levels/", {"framework": framework_id, "number": 0, "name_en": "Solo"}, format="json")
    assert level.status_code == 201
    duplicate = pm_api.post(
        f"{BASE}/levels/", {"framework": framework_id, "number": 0, "name_en": "Again"}, format="json"
    )
    assert duplicate.status_code == 400


def test_a_viewer_reads_but_does_not_write(viewer, api_client_for, framework):
    client = api_client_for(viewer)
    assert client.get(f"{BASE}/frameworks/").status_code == 200
    assert client.post(f"{BASE}/frameworks/", {"key": "x", "name_en": "X"}, format="json").status_code == 403


def test_another_organization_sees_none_of_it(other_api, pm_api, framework, open_window, survey, enrollment, levels):
    assessment = assessment_submit(
        organization=open_window.organization,
        window=open_window,
        subject_enrollment=enrollment,
        assessor_role="self",
        level=levels[2],
    )
    # Not a member of hanbit: every hanbit URL is 404.
    for path in [
        "frameworks/",
        "levels/",
        "assessment-windows/",
        "assessments/",
        "value-surveys/",
        "survey-responses/",
    ]:
        assert other_api.get(f"{BASE}/{path}").status_code == 404
    # In its own organization, hanbit's ids do not exist.
    for path in [
        f"frameworks/{framework.pk}/",
        f"levels/{levels[2].pk}/",
        f"assessment-windows/{open_window.pk}/",
        f"assessments/{assessment.pk}/",
        f"assessments/{assessment.pk}/versions/",
        f"value-surveys/{survey.pk}/",
        f"value-surveys/{survey.pk}/report/",
        f"value-surveys/{survey.pk}/report-csv/",
        f"value-statements/{survey.statements.first().pk}/",
        f"assessment-reports/{open_window.run_id}/",
        f"assessment-reports/{open_window.run_id}/csv/",
    ]:
        assert other_api.get(f"{OTHER}/{path}").status_code == 404, path
    assert other_api.patch(f"{OTHER}/assessments/{assessment.pk}/", {"notes": "x"}, format="json").status_code == 404


def test_windows_are_created_and_validated(pm_api, run, framework):
    now = timezone.now()
    payload = {
        "run": run.pk,
        "framework": framework.pk,
        "kind": "pre",
        "opens_at": now.isoformat(),
        "closes_at": (now + datetime.timedelta(days=7)).isoformat(),
    }
    created = pm_api.post(f"{BASE}/assessment-windows/", payload, format="json")
    assert created.status_code == 201 and created.json()["is_open"] is True
    again = pm_api.post(f"{BASE}/assessment-windows/", payload, format="json")
    assert again.status_code == 400
    backwards = pm_api.post(
        f"{BASE}/assessment-windows/",
        {**payload, "kind": "post", "closes_at": (now - datetime.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert backwards.status_code == 400


def test_a_window_of_another_organizations_run_is_refused(pm_api, other_run, framework):
    now = timezone.now()
    response = pm_api.post(
        f"{BASE}/assessment-windows/",
        {
            "run": other_run.pk,
            "framework": framework.pk,
            "kind": "pre",
            "opens_at": now.isoformat(),
            "closes_at": (now + datetime.timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert "run" in error_attrs(response)


def test_a_program_manager_records_an_assessment_and_revises_it(
    pm_api, program_manager, open_window, enrollment, levels
):
    indicator = levels[2].indicators.first()
    created = pm_api.post(
        f"{BASE}/assessments/",
        {
            "window": open_window.pk,
            "subject_enrollment": enrollment.pk,
            "level": levels[2].pk,
            "notes": "Talks to customers weekly",
            "links": ["https://example.com/notes"],
            "observations": [{"indicator": indicator.pk, "note": "seen in week 3"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["assessor_role"] == "pm" and body["assessor_user"] == program_manager.pk
    assert body["level_number"] == 2 and body["observations"] == [{"indicator": indicator.pk, "note": "seen in week 3"}]

    revised = pm_api.patch(f"{BASE}/assessments/{body['id']}/", {"level": levels[3].pk}, format="json")
    assert revised.status_code == 200, revised.content
    assert revised.json()["version"] == 2 and revised.json()["notes"] == "Talks to customers weekly"
    versions = pm_api.get(f"{BASE}/assessments/{body['id']}/versions/").json()
    assert [(v["number"], v["level_number"]) for v in versions] == [(1, 2), (2, 3)]
    assert pm_api.delete(f"{BASE}/assessments/{body['id']}/").status_code == 405


def test_bad_assessments_are_400_with_clear_messages(
    pm_api, open_window, enrollment, levels, other_framework, other_enrollment
):
    def post(**overrides):
        payload = {"window": open_window.pk, "subject_enrollment": enrollment.pk, "level": levels[2].pk}
        return pm_api.post(f"{BASE}/assessments/", {**payload, **overrides}, format="json")

    outside = post(level=other_framework.levels.get(number=1).pk)
    assert "level" in error_attrs(outside)
    foreign = post(subject_enrollment=other_enrollment.pk)
    assert "subject_enrollment" in error_attrs(foreign)
    assert post(assessor_role="self").status_code == 201
    second = post(assessor_role="self", level=levels[4].pk)
    assert "already exists" in str(error_attrs(second))
    assert Assessment.objects.for_organization(open_window.organization).count() == 1


def test_an_assessment_outside_its_window_is_refused(pm_api, run, framework, enrollment, levels):
    now = timezone.now()
    closed = AssessmentWindowFactory(
        run=run,
        framework=framework,
        kind="post",
        opens_at=now - datetime.timedelta(days=5),
        closes_at=now - datetime.timedelta(days=1),
    )
    response = pm_api.post(
        f"{BASE}/assessments/",
        {"window": closed.pk, "subject_enrollment": enrollment.pk, "level": levels[1].pk},
        format="json",
    )
    assert "window" in error_attrs(response)


def test_surveys_statements_and_responses(pm_api, survey, enrollment):
    surveys = rows(pm_api.get(f"{BASE}/value-surveys/"))
    assert surveys[0]["title"] == "What we deliver" and len(surveys[0]["statements"]) == 3
    statements = list(survey.statements.order_by("position"))
    payload = {
        "survey": survey.pk,
        "enrollment": enrollment.pk,
        "ratings": [{"statement": s.pk, "importance": 4, "satisfaction": 3} for s in statements],
        "improve": "More practice",
    }
    created = pm_api.post(f"{BASE}/survey-responses/", payload, format="json")
    assert created.status_code == 201, created.content
    listed = rows(pm_api.get(f"{BASE}/survey-responses/", {"survey": survey.pk}))
    assert listed[0]["enrollment"] == enrollment.pk and len(listed[0]["ratings"]) == 3

    payload["ratings"][0]["importance"] = 7
    out_of_range = pm_api.post(f"{BASE}/survey-responses/", payload, format="json")
    assert "from 1 to 5" in error_attrs(out_of_range)["ratings"][0]


def test_a_response_after_the_survey_closed_is_400(pm_api, survey, enrollment):
    survey.opens_at = timezone.now() - datetime.timedelta(days=10)
    survey.closes_at = timezone.now() - datetime.timedelta(days=1)
    survey.save()
    payload = {
        "survey": survey.pk,
        "enrollment": enrollment.pk,
        "ratings": [{"statement": s.pk, "importance": 4, "satisfaction": 3} for s in survey.statements.all()],
    }
    response = pm_api.post(f"{BASE}/survey-responses/", payload, format="json")
    assert "no longer accepted" in str(error_attrs(response))
    assert not SurveyResponse.objects.for_organization(survey.organization).exists()


def test_anonymous_responses_are_never_listed_one_by_one(pm_api, survey, enrollment):
    survey.is_anonymous = True
    survey.save()
    survey_response_submit(
        organization=survey.organization,
        survey=survey,
        enrollment=enrollment,
        ratings={s.pk: (5, 5) for s in survey.statements.all()},
    )
    assert rows(pm_api.get(f"{BASE}/survey-responses/")) == []
    report = pm_api.get(f"{BASE}/value-surveys/{survey.pk}/report/").json()
    assert report["hidden_groups"] == ["participant"] and report["respondents"]["participant"] is None


def test_the_survey_report_and_csv(pm_api, survey, run):
    for _ in range(3):
        survey_response_submit(
            organization=survey.organization,
            survey=survey,
            enrollment=EnrollmentFactory(run=run),
            ratings={s.pk: (5, 2) for s in survey.statements.all()},
            own_values="Peers",
        )
    report = pm_api.get(f"{BASE}/value-surveys/{survey.pk}/report/").json()
    assert report["respondents"] == {"participant": 3, "mentor": 0}
    assert report["statements"][0]["text"] == "Customer interviews" and report["statements"][0]["gap"] == 3.0
    assert report["own_words"]["participant"]["values"] == [{"text": "Peers", "count": 3}]
    csv_response = pm_api.get(f"{BASE}/value-surveys/{survey.pk}/report-csv/")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    assert "Customer interviews" in csv_response.content.decode("utf-8-sig")


def test_the_cohort_report_and_csv(pm_api, open_window, enrollment, levels, program_manager):
    assessment_submit(
        organization=open_window.organization,
        window=open_window,
        subject_enrollment=enrollment,
        assessor_role="pm",
        assessor_user=program_manager,
        level=levels[2],
    )
    report = pm_api.get(f"{BASE}/assessment-reports/{open_window.run_id}/").json()
    assert report["windows"][0]["subjects_rated"] == 1
    assert report["participants"][0]["before"] == 2.0
    csv_response = pm_api.get(f"{BASE}/assessment-reports/{open_window.run_id}/csv/")
    assert csv_response.status_code == 200 and "Levels per window" in csv_response.content.decode("utf-8-sig")


def test_the_openapi_schema_lists_the_endpoints(pm_api, superuser, api_client_for):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for expected in [
        "/api/v1/orgs/{org_slug}/frameworks/",
        "/api/v1/orgs/{org_slug}/levels/",
        "/api/v1/orgs/{org_slug}/assessment-windows/",
        "/api/v1/orgs/{org_slug}/assessments/",
        "/api/v1/orgs/{org_slug}/assessments/{id}/versions/",
        "/api/v1/orgs/{org_slug}/value-surveys/{id}/report/",
        "/api/v1/orgs/{org_slug}/survey-responses/",
        "/api/v1/orgs/{org_slug}/assessment-reports/{run_id}/",
    ]:
        assert expected in paths, expected


def _list_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_lists_make_a_constant_number_of_queries(pm_api, open_window, run, levels, program_manager, survey):
    def add_rows():
        enrollment = EnrollmentFactory(run=run)
        assessment_submit(
            organization=run.organization,
            window=open_window,
            subject_enrollment=enrollment,
            assessor_role="pm",
            assessor_user=program_manager,
            level=levels[1],
        )
        survey_response_submit(
            organization=run.organization,
            survey=survey,
            enrollment=enrollment,
            ratings={s.pk: (3, 3) for s in survey.statements.all()},
        )

    add_rows()
    paths = [
        f"{BASE}/assessments/",
        f"{BASE}/levels/",
        f"{BASE}/survey-responses/",
        f"{BASE}/value-surveys/",
        f"{BASE}/assessment-windows/",
    ]
    before = {path: _list_queries(pm_api, path) for path in paths}
    for _ in range(4):
        add_rows()
    after = {path: _list_queries(pm_api, path) for path in paths}
    assert before == after
