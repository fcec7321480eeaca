"""Contract defects a black-box probe found: the schema and the live API now say the same thing.

1. ``POST …/runs/{id}/plan/`` answers the whole plan as a JSON array, and the schema says so
   (it documented a paginated list).
2. A mentoring session's ``mentor`` is chosen when the session is logged; afterwards the
   schema shows it read-only and a request that tries to change it is refused (it was
   writable in the schema and silently ignored).
3. The cohort report's ``?before=`` / ``?after=`` window ids must name windows of the run:
   anything else is a 400 field error (they were silently ignored).
4. The idempotency fingerprint compares the parsed JSON, so a retry whose body differs
   only in whitespace or key order replays the first response (it answered 422).

Every endpoint is also asked from the wrong organization.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from mentors.models import MentoringSession
from programs.models import Milestone, Program
from tests.factories.assessments import AssessmentWindowFactory
from tests.factories.mentors import MentoringSessionFactory
from tests.factories.programs import CheckInFactory, EnrollmentFactory, MilestoneTemplateFactory, RunFactory

PROBLEM = "application/problem+json"


def url(organization, path: str) -> str:
    return f"/api/v1/orgs/{organization.slug}/{path}"


def field_errors(response, status: int = 400) -> dict[str, list[dict]]:
    """The problem's field errors by ``attr``, after checking status and format."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    found: dict[str, list[dict]] = {}
    for error in response.json()["errors"]:
        found.setdefault(error["attr"], []).append(error)
    return found


@pytest.fixture
def as_pm(api_client_for, program_manager):
    return api_client_for(program_manager)


@pytest.fixture
def as_other_pm(api_client_for, other_program_manager):
    return api_client_for(other_program_manager)


@pytest.fixture
def schema(as_pm):
    response = as_pm.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def request_schema(schema: dict, path: str, method: str) -> dict:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


# --- 1. The plan is an array, in the schema too ------------------------------------------

PLAN = "/api/v1/orgs/{org_slug}/runs/{id}/plan/"


def test_the_schema_documents_the_plan_as_an_array_of_milestones(schema):
    operation = schema["paths"][PLAN]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Milestone"},
    }
    query = [parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"]
    assert query == []  # no cursor or page_size: the whole plan comes back at once


def test_the_plan_answers_every_milestone_of_the_run_as_an_array(as_pm, schema, organization, run):
    for days in range(0, 60, 7):  # more milestones than a page of 1 would show
        MilestoneTemplateFactory(program=run.program, name=f"D-{days}", days_before_deadline=days)
    response = as_pm.post(url(organization, f"runs/{run.pk}/plan/") + "?page_size=1", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert isinstance(body, list) and len(body) == 9
    milestone = schema["components"]["schemas"]["Milestone"]
    for row in body:
        assert set(milestone["required"]) <= set(row) <= set(milestone["properties"])
    assert sorted(row["id"] for row in body) == sorted(
        Milestone.objects.for_organization(organization).filter(run=run).values_list("id", flat=True)
    )


def test_another_organization_cannot_plan_the_run(as_other_pm, organization, run):
    MilestoneTemplateFactory(program=run.program, name="Pitch deck", days_before_deadline=14)
    response = as_other_pm.post(url(organization, f"runs/{run.pk}/plan/"), {}, format="json")
    assert response.status_code == 404
    assert not Milestone.objects.for_organization(organization).exists()


# --- 2. A session's mentor is set when it is logged ----------------------------------------

SESSIONS = "/api/v1/orgs/{org_slug}/mentoring-sessions/"
SESSION = "/api/v1/orgs/{org_slug}/mentoring-sessions/{id}/"


def test_the_schema_lets_the_mentor_be_chosen_on_create_only(schema):
    assert "mentor" in request_schema(schema, SESSIONS, "post")["properties"]
    for method in ("put", "patch"):
        assert "mentor" not in request_schema(schema, SESSION, method)["properties"], method
    response = schema["paths"][SESSION]["patch"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert response == {"$ref": "#/components/schemas/MentoringSession"}


def test_a_pm_logs_a_session_for_a_mentor_of_the_organization(as_pm, organization, second_mentor):
    response = as_pm.post(
        url(organization, "mentoring-sessions/"),
        {"mentor": second_mentor.pk, "held_on": "2026-04-07", "duration_minutes": 45},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["mentor"] == second_mentor.pk
    assert MentoringSession.objects.for_organization(organization).get().mentor == second_mentor


def test_a_mentor_of_another_organization_is_a_field_error(as_pm, organization, foreign_mentor):
    response = as_pm.post(
        url(organization, "mentoring-sessions/"),
        {"mentor": foreign_mentor.pk, "held_on": "2026-04-07", "duration_minutes": 45},
        format="json",
    )
    errors = field_errors(response)
    assert list(errors) == ["mentor"]
    assert errors["mentor"][0]["code"] == "does_not_exist"
    assert not MentoringSession.objects.dangerously_all_organizations().exists()


def test_changing_the_mentor_of_a_logged_session_is_refused(as_pm, organization, portal_mentor, second_mentor):
    session = MentoringSessionFactory(mentor=portal_mentor, topics="Pricing")
    path = url(organization, f"mentoring-sessions/{session.pk}/")
    response = as_pm.patch(path, {"mentor": second_mentor.pk, "topics": "Hiring"}, format="json")
    errors = field_errors(response)
    assert list(errors) == ["mentor"]
    assert errors["mentor"][0]["code"] == "read_only"
    assert "log a new session" in errors["mentor"][0]["detail"]
    session.refresh_from_db()
    assert (session.mentor, session.topics) == (portal_mentor, "Pricing")


def test_changing_the_mentor_to_another_organizations_mentor_is_refused(
    as_pm, organization, portal_mentor, foreign_mentor
):
    session = MentoringSessionFactory(mentor=portal_mentor)
    response = as_pm.put(
        url(organization, f"mentoring-sessions/{session.pk}/"),
        {"mentor": foreign_mentor.pk, "held_on": "2026-04-07", "duration_minutes": 30},
        format="json",
    )
    assert list(field_errors(response)) == ["mentor"]
    session.refresh_from_db()
    assert session.mentor == portal_mentor and session.duration_minutes == 60


def test_sending_back_the_same_mentor_is_fine(as_pm, organization, portal_mentor):
    session = MentoringSessionFactory(mentor=portal_mentor)
    path = url(organization, f"mentoring-sessions/{session.pk}/")
    body = as_pm.get(path).json()
    response = as_pm.patch(path, {"mentor": body["mentor"], "topics": "Hiring"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["mentor"] == portal_mentor.pk and response.json()["topics"] == "Hiring"


def test_another_organization_cannot_change_the_session(as_other_pm, organization, portal_mentor, other_program_mentor):
    session = MentoringSessionFactory(mentor=portal_mentor, topics="Pricing")
    response = as_other_pm.patch(
        url(organization, f"mentoring-sessions/{session.pk}/"),
        {"mentor": other_program_mentor.pk, "topics": "x"},
        format="json",
    )
    assert response.status_code == 404
    session.refresh_from_db()
    assert (session.mentor, session.topics) == (portal_mentor, "Pricing")


# --- 3. Report windows must exist ----------------------------------------------------------


@pytest.fixture
def windows(run, framework):
    return {kind: AssessmentWindowFactory(run=run, framework=framework, kind=kind) for kind in ("pre", "mid", "post")}


@pytest.mark.parametrize("report", ["", "csv/"])
def test_the_report_uses_the_windows_asked_for(as_pm, organization, run, windows, report):
    response = as_pm.get(
        url(organization, f"assessment-reports/{run.pk}/{report}"),
        {"before": windows["mid"].pk, "after": windows["post"].pk},
    )
    assert response.status_code == 200, response.content
    if not report:
        assert (response.json()["before_window"], response.json()["after_window"]) == (
            windows["mid"].pk,
            windows["post"].pk,
        )


@pytest.mark.parametrize("report", ["", "csv/"])
@pytest.mark.parametrize("parameter", ["before", "after"])
def test_an_unknown_window_is_a_field_error(as_pm, organization, run, windows, report, parameter):
    response = as_pm.get(url(organization, f"assessment-reports/{run.pk}/{report}"), {parameter: 987654321})
    errors = field_errors(response)
    assert list(errors) == [parameter]
    assert errors[parameter][0]["code"] == "does_not_exist"
    assert errors[parameter][0]["detail"] == "No assessment window 987654321 in this run."


@pytest.mark.parametrize("value", ["abc", "-1", "0", "1.5", "null"])
def test_a_window_that_is_not_an_id_is_a_field_error(as_pm, organization, run, windows, value):
    response = as_pm.get(url(organization, f"assessment-reports/{run.pk}/"), {"after": value})
    assert list(field_errors(response)) == ["after"]


def test_an_empty_window_parameter_is_the_default(as_pm, organization, run, windows):
    response = as_pm.get(url(organization, f"assessment-reports/{run.pk}/") + "?before=&after=")
    assert response.status_code == 200, response.content
    assert (response.json()["before_window"], response.json()["after_window"]) == (
        windows["pre"].pk,
        windows["post"].pk,
    )


def test_another_runs_or_organizations_window_is_a_field_error(
    as_pm, organization, run, windows, framework, other_run, other_framework
):
    another_run = RunFactory(program=run.program, name="2026 가을 기수")
    foreign = {
        "before": AssessmentWindowFactory(run=another_run, framework=framework).pk,
        "after": AssessmentWindowFactory(run=other_run, framework=other_framework).pk,
    }
    response = as_pm.get(url(organization, f"assessment-reports/{run.pk}/"), foreign)
    errors = field_errors(response)
    assert set(errors) == {"before", "after"}
    assert errors["after"][0]["detail"] == f"No assessment window {foreign['after']} in this run."


def test_the_same_window_twice_is_a_field_error(as_pm, organization, run, windows):
    response = as_pm.get(
        url(organization, f"assessment-reports/{run.pk}/"), {"before": windows["pre"].pk, "after": windows["pre"].pk}
    )
    assert list(field_errors(response)) == ["after"]


def test_the_schema_documents_the_window_parameters_of_both_reports(schema):
    report = "/api/v1/orgs/{org_slug}/assessment-reports/{run_id}/"
    for path in (report, report + "csv/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        for name in ("before", "after"):
            assert parameters[name]["in"] == "query" and parameters[name]["schema"]["type"] == "integer", (path, name)


def test_another_organization_cannot_read_the_report(as_other_pm, organization, run, windows):
    response = as_other_pm.get(url(organization, f"assessment-reports/{run.pk}/"), {"before": windows["pre"].pk})
    assert response.status_code == 404


# --- 4. Idempotency compares the JSON, not its spelling ---------------------------------


@pytest.fixture
def key_api(organization, full_access_key, key_client):
    return key_client(full_access_key[1])


def _post(client, organization, body: str, key: str):
    return client.post(
        url(organization, "programs/"), data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )


@pytest.mark.parametrize(
    "retry",
    [
        '{ "name" : "Bootcamp",\n  "description" : "Ten weeks" }\n',
        '{"description":"Ten weeks","name":"Bootcamp"}',
        '{"name": "Boot\\u0063amp", "description": "Ten weeks"}',
    ],
    ids=["whitespace", "key order", "escapes"],
)
def test_a_retry_with_the_same_json_spelled_differently_is_replayed(key_api, organization, retry):
    first = _post(key_api, organization, '{"name": "Bootcamp", "description": "Ten weeks"}', "retry-1")
    assert first.status_code == 201, first.content
    again = _post(key_api, organization, retry, "retry-1")
    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Program.objects.for_organization(organization).count() == 1


@pytest.mark.parametrize(
    "retry",
    [
        '{"name": "Bootcamp", "description": "Twelve weeks"}',
        '{"name": "Bootcamp"}',
        '{"name": "Bootcamp", "description": "Ten weeks", "promised_value": ""}',
        '[{"name": "Bootcamp", "description": "Ten weeks"}]',
    ],
    ids=["another value", "a field less", "a field more", "wrapped in an array"],
)
def test_a_retry_with_different_content_is_still_refused(key_api, organization, retry):
    first = _post(key_api, organization, '{"name": "Bootcamp", "description": "Ten weeks"}', "retry-2")
    assert first.status_code == 201
    response = _post(key_api, organization, retry, "retry-2")
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == "idempotency_key_reused"
    assert Program.objects.for_organization(organization).count() == 1


def test_numbers_keep_their_value_in_the_fingerprint(key_api, organization, run):
    path = url(organization, "milestone-templates/")
    body = {"program": run.program_id, "name": "Pitch", "days_before_deadline": 14}
    first = key_api.post(path, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="n-1")
    assert first.status_code == 201, first.content
    other = {**body, "days_before_deadline": 15}
    response = key_api.post(path, data=json.dumps(other), content_type="application/json", HTTP_IDEMPOTENCY_KEY="n-1")
    assert response.status_code == 422


def test_the_same_key_and_body_in_another_organization_is_not_a_replay(
    key_api, organization, other_organization, api_key_for, key_client
):
    first = _post(key_api, organization, '{"name": "Bootcamp"}', "shared-key")
    assert first.status_code == 201
    _, other_key = api_key_for(other_organization, scopes=["programs:write"])
    other_api = key_client(other_key)
    # The other organization's key on this organization's path: 404, nothing replayed.
    assert _post(other_api, organization, '{ "name": "Bootcamp" }', "shared-key").status_code == 404
    mine = _post(other_api, other_organization, '{ "name": "Bootcamp" }', "shared-key")
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine
    assert mine.json()["id"] != first.json()["id"]
    assert Program.objects.for_organization(other_organization).count() == 1


# --- 5. What Schemathesis found with every check ---------------------------------------
# (tests/integrations/test_schema.py runs them all; these pin each finding down.)


@pytest.mark.parametrize(
    ("resource", "parameter", "value"),
    [
        ("check-ins", "archived", "2"),
        ("webhook-subscriptions", "archived", "maybe"),
        ("frameworks", "is_default", "null"),
        ("milestones", "completed", "0.5"),
    ],
)
def test_a_boolean_query_parameter_that_is_not_a_boolean_is_a_field_error(
    as_pm, organization, resource, parameter, value
):
    errors = field_errors(as_pm.get(url(organization, f"{resource}/"), {parameter: value}))
    assert list(errors) == [parameter]
    assert errors[parameter][0]["detail"] == "Send true or false."


@pytest.mark.parametrize(
    ("value", "with_archived"),
    [("true", True), ("True", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("no", False)],
)
def test_boolean_spellings_are_read_as_booleans(as_pm, organization, enrollment, value, with_archived):
    kept = CheckInFactory(enrollment=enrollment)
    archived = CheckInFactory(enrollment=enrollment, archived_at=timezone.now())
    response = as_pm.get(url(organization, "check-ins/"), {"archived": value})
    assert response.status_code == 200, response.content
    expected = {kept.pk, archived.pk} if with_archived else {kept.pk}
    assert {row["id"] for row in response.json()["results"]} == expected


def test_an_integer_filter_takes_whole_numbers(as_pm, organization, levels):
    errors = field_errors(as_pm.get(url(organization, "levels/"), {"number": "0.5"}))
    assert list(errors) == ["number"]
    response = as_pm.get(url(organization, "levels/"), {"number": "3"})
    assert [row["number"] for row in response.json()["results"]] == [3]


def test_a_datetime_filter_with_an_offset_postgresql_cannot_hold_is_compared_in_utc(as_pm, organization, run):
    # 2026-03-01T06:00:00+20:01 is 2026-02-28T09:59:00Z: RFC 3339 allows the offset, PostgreSQL does not (a 500).
    before = EnrollmentFactory(run=run, last_contact_at=dt.datetime(2026, 2, 28, 9, 58, tzinfo=dt.UTC))
    EnrollmentFactory(run=run, last_contact_at=dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC))
    response = as_pm.get(url(organization, "enrollments/"), {"silent_since": "2026-03-01T06:00:00+20:01"})
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [before.pk]


def test_a_datetime_filter_that_utc_cannot_hold_is_a_field_error(as_pm, organization):
    errors = field_errors(as_pm.get(url(organization, "enrollments/"), {"silent_since": "0001-01-01T00:00:00+05:00"}))
    assert list(errors) == ["silent_since"]


def test_an_empty_query_parameter_is_the_same_as_leaving_it_out(as_pm, organization, run, enrollment):
    empty = {name: "" for name in ("status", "run", "silent_since", "archived", "page_size", "ordering", "cursor")}
    response = as_pm.get(url(organization, "enrollments/"), empty)
    assert response.status_code == 200, response.content
    assert response.json() == as_pm.get(url(organization, "enrollments/")).json()
    report = as_pm.get(url(organization, "assessment-reports/organization/"), {"before_kind": "", "after_kind": ""})
    assert report.status_code == 200 and (report.json()["before_kind"], report.json()["after_kind"]) == ("pre", "post")


def test_the_schema_allows_empty_values_of_optional_query_parameters(schema):
    checked = 0
    for path, item in schema["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and path.startswith("/api/v1/orgs/"):
                    assert parameter.get("allowEmptyValue") is True, (path, parameter["name"])
                    checked += 1
    assert checked > 100


def test_the_schema_states_what_an_idempotency_key_may_be(schema):
    parameters = schema["paths"]["/api/v1/orgs/{org_slug}/programs/"]["post"]["parameters"]
    key = next(parameter for parameter in parameters if parameter["name"] == "Idempotency-Key")
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"[^\s\x1c-\x1f\x85]"}


@pytest.mark.parametrize("key", ["", "   ", "\x1c", "k" * 256])
def test_an_idempotency_key_outside_the_schema_is_a_field_error(key_api, organization, key):
    response = _post(key_api, organization, '{"name": "Bootcamp"}', key)
    assert list(field_errors(response)) == ["Idempotency-Key"]
    assert not Program.objects.for_organization(organization).exists()


def test_restoring_takes_no_body_in_the_schema(schema):
    restores = [path for path in schema["paths"] if path.endswith("/restore/")]
    assert len(restores) >= 5
    for path in restores:
        assert "requestBody" not in schema["paths"][path]["post"], path


def test_url_fields_state_the_urls_the_api_accepts(schema):
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    components = schema["components"]["schemas"]
    webhook = components["WebhookSubscriptionRequest"]["properties"]
    assert webhook["events"]["minItems"] == 1
    evidence = components["MilestoneProgressRequest"]["properties"]["evidence_url"]["oneOf"][0]
    samples = {
        "https://crm.example.com/hooks/cohort?x=1": True,
        "http://a.b.co:8080/": True,
        "ftp://files.example.com/evidence.pdf": True,
        "programs:participant": False,
        "mailto:pm@example.com": False,
        "https://localhost-without-a-dot": False,
        "https://-bad.example.com": False,
    }
    for sample, valid in samples.items():
        try:
            URLValidator()(sample)
            django_accepts = True
        except ValidationError:
            django_accepts = False
        assert django_accepts == valid, sample
        assert bool(re.match(evidence["pattern"], sample)) == valid, sample
    assert re.match(webhook["url"]["pattern"], "https://crm.example.com/hooks")
    for refused in ("ftp://files.example.com/", "https://user:secret@crm.example.com/"):
        assert not re.match(webhook["url"]["pattern"], refused), refused


def test_a_webhook_with_no_events_is_refused(key_api, organization):
    body = {"url": "https://crm.example.com/", "events": []}
    response = key_api.post(url(organization, "webhook-subscriptions/"), body)
    assert list(field_errors(response)) == ["events"]


def test_who_is_not_a_mentor_cannot_create_goals_403(key_api, as_pm, organization):
    for client in (key_api, as_pm):
        response = client.post(url(organization, "development-goals/"), {"title": "Grow the cohort"})
        assert response.status_code == 403, response.content
        assert response["Content-Type"].startswith(PROBLEM)
        assert response.json()["detail"] == "Only mentors of the organization keep development goals."


def test_another_organizations_pm_creating_a_goal_gets_404(as_other_pm, organization):
    assert as_other_pm.post(url(organization, "development-goals/"), {"title": "x"}).status_code == 404


def test_a_goal_check_in_status_is_the_goals_status_enum(schema):
    status = request_schema(schema, "/api/v1/orgs/{org_slug}/goal-check-ins/", "post")["properties"]["status"]
    assert status["allOf"] == [{"$ref": "#/components/schemas/DevelopmentGoalStatusEnum"}]
    assert "" not in schema["components"]["schemas"]["DevelopmentGoalStatusEnum"]["enum"]


@pytest.mark.parametrize("sample", ["1", "1.5", ".5", "-2.25", "1.", "123456789012.12", "", "-", ".", "1.123", "1e3"])
def test_a_decimal_pattern_accepts_what_the_api_reads(schema, sample):
    from rest_framework import serializers
    from rest_framework.exceptions import ValidationError

    pattern = request_schema(schema, "/api/v1/orgs/{org_slug}/key-results/", "post")["properties"]["target_value"]
    try:
        serializers.DecimalField(max_digits=14, decimal_places=2).run_validation(sample)
        reads = True
    except ValidationError:
        reads = False
    # "1e3" is a number DRF reads and the pattern refuses: the schema may be narrower, never wider.
    assert bool(re.match(pattern["pattern"], sample)) == reads or (sample == "1e3" and reads)


# --- 6. What the black-box probe found (schemathesis CLI, --checks all, production gunicorn) --


@pytest.mark.parametrize(
    ("method", "resource", "body", "field"),
    [
        ("post", "teams/", {"name": 0}, "name"),
        ("post", "programs/", {"name": "Bootcamp", "promised_value": 0}, "promised_value"),
        ("post", "participants/", {"name": "Minji", "email": "minji@example.com", "tags": [0]}, "tags.0"),
        (
            "post",
            "webhook-subscriptions/",
            {"url": "https://crm.example.com/", "events": ["check_in.created"], "is_active": 0},
            "is_active",
        ),
    ],
)
def test_a_number_where_the_schema_says_string_or_boolean_is_a_field_error(
    key_api, organization, method, resource, body, field
):
    response = getattr(key_api, method)(url(organization, resource), body)
    assert list(field_errors(response)) == [field]


def test_a_plan_flag_must_be_a_json_boolean(as_pm, organization, run):
    response = as_pm.post(url(organization, f"runs/{run.pk}/plan/"), {"accept_before_start": "yes"}, format="json")
    assert list(field_errors(response)) == ["accept_before_start"]


def test_the_schema_says_a_name_may_not_be_blank(schema):
    name = request_schema(schema, "/api/v1/orgs/{org_slug}/programs/", "post")["properties"]["name"]
    assert name["pattern"] == r"[^\s\x1c-\x1f\x85]" and name["minLength"] == 1
    for blank in (" ", "\n", "\x1c", "\x85"):  # what DRF trims away
        assert not re.search(name["pattern"], blank), repr(blank)
    assert re.search(name["pattern"], " a ")
    key = request_schema(schema, "/api/v1/orgs/{org_slug}/frameworks/", "post")["properties"]["key"]
    assert key["pattern"] == "^[-a-zA-Z0-9_]+$"


def test_a_blank_name_is_a_field_error(key_api, organization):
    assert list(field_errors(key_api.post(url(organization, "teams/"), {"name": " \n"}))) == ["name"]


def test_a_duplicate_says_unique_in_its_code(key_api, organization):
    assert key_api.post(url(organization, "teams/"), {"name": "Returnbox"}).status_code == 201
    errors = field_errors(key_api.post(url(organization, "teams/"), {"name": "Returnbox"}))
    assert [error["code"] for found in errors.values() for error in found] == ["unique_together"]


def test_deleting_a_window_with_assessments_is_a_409(
    as_pm, as_other_pm, organization, open_window, enrollment, levels, program_manager
):
    from assessments.services import assessment_submit

    assessment_submit(
        organization=organization,
        window=open_window,
        subject_enrollment=enrollment,
        assessor_role="pm",
        assessor_user=program_manager,
        level=levels[2],
    )
    path = url(organization, f"assessment-windows/{open_window.pk}/")
    assert as_other_pm.delete(path).status_code == 404
    response = as_pm.delete(path)
    assert response.status_code == 409, response.content
    assert response["Content-Type"].startswith(PROBLEM) and response.json()["code"] == "protected"


def test_the_schema_keeps_an_enrollments_run_participant_and_team_on_change(schema):
    for method in ("put", "patch"):
        properties = request_schema(schema, "/api/v1/orgs/{org_slug}/enrollments/{id}/", method)["properties"]
        assert not {"run", "participant", "team"} & set(properties), method


def test_moving_an_enrollment_is_refused_and_sending_it_back_is_fine(as_pm, as_other_pm, organization, run, enrollment):
    path = url(organization, f"enrollments/{enrollment.pk}/")
    other = EnrollmentFactory(run=run)
    errors = field_errors(as_pm.patch(path, {"participant": other.participant_id, "status": "dropped"}, format="json"))
    assert list(errors) == ["participant"] and errors["participant"][0]["code"] == "read_only"
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    same = as_pm.get(path).json()
    response = as_pm.put(path, {**same, "status": "completed"}, format="json")
    assert response.status_code == 200, response.content
    assert as_other_pm.patch(path, {"status": "dropped"}, format="json").status_code == 404


def test_a_deleted_row_is_gone_until_restored(as_pm, as_other_pm, organization, enrollment):
    check_in = CheckInFactory(enrollment=enrollment)
    path = url(organization, f"check-ins/{check_in.pk}/")
    assert as_other_pm.delete(path).status_code == 404
    assert as_pm.delete(path).status_code == 204
    assert as_pm.get(path).status_code == 404
    assert as_pm.delete(path).status_code == 404
    assert as_pm.get(path, {"archived": "true"}).json()["archived_at"] is not None
    assert as_other_pm.post(path + "restore/").status_code == 404
    restored = as_pm.post(path + "restore/")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert as_pm.get(path).status_code == 200


@pytest.mark.parametrize(
    "address", ["https://crm.example.com/?\x04a", "https://crm.example.com/\x7f", "https://crm.example.com/\x94"]
)
def test_a_url_with_control_characters_is_a_field_error(key_api, organization, address):
    body = {"url": address, "events": ["check_in.created"]}
    assert list(field_errors(key_api.post(url(organization, "webhook-subscriptions/"), body))) == ["url"]


@pytest.mark.parametrize(
    "address", ["https://crm.example.com/고객", "https://crm.example.com/?q=`x`", "https://crm.example.com/?%Uw"]
)
def test_a_url_with_characters_a_uri_cannot_hold_is_a_field_error(key_api, organization, address):
    body = {"url": address, "events": ["check_in.created"]}
    assert list(field_errors(key_api.post(url(organization, "webhook-subscriptions/"), body))) == ["url"]


def test_a_percent_encoded_url_is_stored_as_sent(key_api, organization, schema):
    address = "https://crm.example.com/%EA%B3%A0%EA%B0%9D?q=%C3%A9&x=(1)"
    response = key_api.post(
        url(organization, "webhook-subscriptions/"), {"url": address, "events": ["check_in.created"]}
    )
    assert response.status_code == 201, response.content
    assert response.json()["url"] == address
    pattern = request_schema(schema, "/api/v1/orgs/{org_slug}/webhook-subscriptions/", "post")["properties"]["url"]
    assert re.match(pattern["pattern"], address)
    for refused in ("https://crm.example.com/?q=`x`", "https://crm.example.com/?%Uw", "https://crm.example.com/?%4"):
        assert not re.match(pattern["pattern"], refused), refused


def test_the_schema_keeps_a_runs_final_deadline_on_change(schema):
    for method in ("put", "patch"):
        properties = request_schema(schema, "/api/v1/orgs/{org_slug}/runs/{id}/", method)["properties"]
        assert "final_deadline" not in properties and "name" in properties, method


def test_a_run_change_with_another_deadline_is_refused_and_the_same_one_passes(as_pm, as_other_pm, organization, run):
    path = url(organization, f"runs/{run.pk}/")
    errors = field_errors(as_pm.patch(path, {"final_deadline": "2026-07-03", "name": "Renamed"}, format="json"))
    assert list(errors) == ["final_deadline"] and errors["final_deadline"][0]["code"] == "read_only"
    current = as_pm.get(path).json()
    response = as_pm.put(path, {**current, "name": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed" and response.json()["final_deadline"] == current["final_deadline"]
    assert as_other_pm.patch(path, {"name": "x"}, format="json").status_code == 404
