"""The mentors API: own goals for mentors, shared goals for the program team, 404 across organizations."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mentors import services
from mentors.models import DevelopmentGoal, GoalCheckIn, KeyResult, MentoringSession, MentorInvitation
from tests.factories.mentors import DevelopmentGoalFactory, KeyResultFactory, MentorFactory, MentoringSessionFactory


def api(organization, path):
    return f"/api/v1/orgs/{organization.slug}/{path}"


@pytest.fixture
def as_mentor(api_client_for, mentor_user, portal_mentor):
    return api_client_for(mentor_user)


@pytest.fixture
def as_pm(api_client_for, program_manager):
    return api_client_for(program_manager)


def error_fields(response) -> set[str]:
    """Fields named in a 400: problem details (``errors[].attr``) or DRF's plain dict."""
    body = response.json()
    if isinstance(body.get("errors"), list):
        return {str(error.get("attr") or "").split(".")[0] for error in body["errors"]}
    return set(body)


def _ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_a_mentor_lists_their_own_goals_private_and_shared(as_mentor, organization, goal, shared_goal, second_mentor):
    DevelopmentGoalFactory(mentor=second_mentor, visibility=DevelopmentGoal.Visibility.PRIVATE)
    response = as_mentor.get(api(organization, "development-goals/"))
    assert response.status_code == 200
    assert _ids(response) == {goal.pk, shared_goal.pk}


def test_the_program_team_lists_shared_goals_only(as_pm, organization, goal, shared_goal):
    response = as_pm.get(api(organization, "development-goals/"))
    assert _ids(response) == {shared_goal.pk}
    assert as_pm.get(api(organization, f"development-goals/{goal.pk}/")).status_code == 404
    key_results = as_pm.get(api(organization, "key-results/")).json()["results"]
    assert {kr["goal"] for kr in key_results} == {shared_goal.pk}


def test_another_mentors_shared_goal_is_visible_to_the_pm_but_private_ones_to_nobody_else(
    as_mentor, organization, second_mentor
):
    theirs_private = DevelopmentGoalFactory(mentor=second_mentor)
    theirs_shared = DevelopmentGoalFactory(mentor=second_mentor, visibility=DevelopmentGoal.Visibility.SHARED)
    assert as_mentor.get(api(organization, f"development-goals/{theirs_private.pk}/")).status_code == 404
    # A mentor (role below viewer) does not see colleagues' shared goals either.
    assert as_mentor.get(api(organization, f"development-goals/{theirs_shared.pk}/")).status_code == 404


def test_a_mentor_creates_a_goal_with_key_results(as_mentor, organization, portal_mentor):
    response = as_mentor.post(
        api(organization, "development-goals/"),
        {
            "title": "Coach five founders",
            "visibility": "shared",
            "checkin_cadence_days": 7,
            "new_key_results": [{"title": "Founders coached", "target_value": "5", "unit": "founders"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["mentor"] == portal_mentor.pk and body["progress"] == 0
    assert [kr["title"] for kr in body["key_results"]] == ["Founders coached"]


def test_a_key_result_with_target_equal_to_start_is_a_400_and_nothing_is_saved(as_mentor, organization, goal):
    response = as_mentor.post(
        api(organization, "development-goals/"),
        {"title": "Flat", "new_key_results": [{"title": "x", "start_value": "2", "target_value": "2"}]},
        format="json",
    )
    assert response.status_code == 400 and "new_key_results" in error_fields(response)
    response = as_mentor.post(
        api(organization, "key-results/"), {"goal": goal.pk, "title": "x", "start_value": 2, "target_value": 2}
    )
    assert response.status_code == 400 and "target_value" in error_fields(response)
    assert not DevelopmentGoal.objects.for_organization(organization).filter(title="Flat").exists()
    assert KeyResult.objects.for_organization(organization).filter(goal=goal).count() == 2


def test_a_pm_cannot_create_or_change_goals(as_pm, organization, shared_goal):
    assert as_pm.post(api(organization, "development-goals/"), {"title": "PM goal"}).status_code == 403
    assert (
        as_pm.patch(api(organization, f"development-goals/{shared_goal.pk}/"), {"title": "PM edit"}).status_code == 403
    )
    assert as_pm.delete(api(organization, f"development-goals/{shared_goal.pk}/")).status_code == 403


def test_check_in_through_the_api(as_mentor, organization, goal):
    first, second = goal.key_results.order_by("id")
    response = as_mentor.post(
        api(organization, "goal-check-ins/"),
        {"goal": goal.pk, "confidence": 4, "note": "Good week", "values": {str(first.pk): "1"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert float(response.json()["progress"]) == 25
    assert as_mentor.get(api(organization, f"development-goals/{goal.pk}/")).json()["progress"] == 25


def test_check_in_on_an_archived_goal_is_a_400(as_mentor, organization, goal):
    assert as_mentor.delete(api(organization, f"development-goals/{goal.pk}/")).status_code == 204
    response = as_mentor.post(api(organization, "goal-check-ins/"), {"goal": goal.pk, "confidence": 3}, format="json")
    assert response.status_code == 400
    assert "archived" in str(response.json())
    assert not GoalCheckIn.objects.for_organization(organization).exists()


def test_check_in_on_someone_elses_goal_is_a_400(as_mentor, organization, second_mentor):
    theirs = DevelopmentGoalFactory(mentor=second_mentor)
    response = as_mentor.post(api(organization, "goal-check-ins/"), {"goal": theirs.pk, "confidence": 3}, format="json")
    assert response.status_code == 400 and "goal" in error_fields(response)


def test_current_value_is_not_writable_directly(as_mentor, organization, goal):
    first = goal.key_results.order_by("id").first()
    response = as_mentor.patch(api(organization, f"key-results/{first.pk}/"), {"current_value": "2", "unit": "talks"})
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.current_value == 0 and first.unit == "talks"


def test_mentors_log_their_own_sessions(as_mentor, organization, mentee, second_mentor):
    response = as_mentor.post(
        api(organization, "mentoring-sessions/"),
        {"held_on": "2026-04-07", "duration_minutes": 30, "topics": "Hiring", "attendees": [mentee.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["rating_count"] == 0
    response = as_mentor.post(
        api(organization, "mentoring-sessions/"),
        {"mentor": second_mentor.pk, "held_on": "2026-04-07", "duration_minutes": 30},
        format="json",
    )
    assert response.status_code == 400 and "mentor" in error_fields(response)


def test_a_mentor_lists_only_their_sessions_and_the_pm_all(
    as_mentor, as_pm, organization, portal_mentor, second_mentor
):
    mine = MentoringSessionFactory(mentor=portal_mentor)
    theirs = MentoringSessionFactory(mentor=second_mentor)
    assert _ids(as_mentor.get(api(organization, "mentoring-sessions/"))) == {mine.pk}
    assert _ids(as_pm.get(api(organization, "mentoring-sessions/"))) == {mine.pk, theirs.pk}
    assert as_mentor.patch(api(organization, f"mentoring-sessions/{theirs.pk}/"), {"topics": "x"}).status_code == 404


def test_a_session_with_another_organizations_enrollment_is_a_400(as_mentor, organization, other_enrollment):
    response = as_mentor.post(
        api(organization, "mentoring-sessions/"),
        {"held_on": "2026-04-07", "duration_minutes": 30, "attendees": [other_enrollment.pk]},
        format="json",
    )
    assert response.status_code == 400 and "attendees" in error_fields(response)
    assert not MentoringSession.objects.for_organization(organization).exists()


def test_pms_invite_mentors_through_the_api(as_pm, organization, portal_mentor):
    response = as_pm.post(api(organization, "mentor-invitations/"), {"email": "api@example.com", "language": "en"})
    assert response.status_code == 201 and response.json()["state"] == "pending"
    response = as_pm.post(api(organization, "mentor-invitations/"), {"email": portal_mentor.user.email})
    assert response.status_code == 400 and "email" in error_fields(response)
    assert MentorInvitation.objects.for_organization(organization).count() == 1


def test_pms_change_mentors_and_mentors_cannot(as_pm, as_mentor, organization, portal_mentor):
    response = as_pm.patch(api(organization, f"mentors/{portal_mentor.pk}/"), {"capacity": 5, "status": "paused"})
    assert response.status_code == 200 and response.json()["capacity"] == 5
    assert as_mentor.get(api(organization, "mentors/")).status_code == 403
    assert as_pm.post(api(organization, "mentors/"), {}).status_code == 405


@pytest.mark.parametrize(
    "path",
    ["mentors/", "mentor-invitations/", "development-goals/", "key-results/", "goal-check-ins/", "mentoring-sessions/"],
)
def test_another_organization_answers_404(api_client_for, other_program_manager, organization, path):
    assert api_client_for(other_program_manager).get(api(organization, path)).status_code == 404


def test_another_organizations_objects_answer_404(as_pm, organization, foreign_mentor):
    goal = DevelopmentGoalFactory(mentor=foreign_mentor, visibility=DevelopmentGoal.Visibility.SHARED)
    key_result = KeyResultFactory(goal=goal)
    check_in = services.goal_check_in(organization=foreign_mentor.organization, goal=goal, confidence=3)
    session = MentoringSessionFactory(mentor=foreign_mentor)
    for path in (
        f"mentors/{foreign_mentor.pk}/",
        f"development-goals/{goal.pk}/",
        f"key-results/{key_result.pk}/",
        f"goal-check-ins/{check_in.pk}/",
        f"mentoring-sessions/{session.pk}/",
    ):
        assert as_pm.get(api(organization, path)).status_code == 404, path


@pytest.mark.parametrize(
    "path", ["mentors/", "development-goals/", "key-results/", "goal-check-ins/", "mentoring-sessions/"]
)
def test_list_endpoints_do_not_grow_queries_with_rows(as_pm, organization, path):
    def make_rows(n):
        for _ in range(n):
            mentor = MentorFactory(organization=organization)
            goal = DevelopmentGoalFactory(mentor=mentor, visibility=DevelopmentGoal.Visibility.SHARED)
            KeyResultFactory(goal=goal)
            services.goal_check_in(organization=organization, goal=goal, confidence=3)
            MentoringSessionFactory(mentor=mentor, held_on=datetime.date(2026, 4, 7))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert as_pm.get(api(organization, path)).status_code == 200
        return len(queries)

    make_rows(2)
    few = count()
    make_rows(4)
    assert count() == few


def test_the_schema_lists_the_mentor_endpoints(as_pm):
    response = as_pm.get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("development-goals", "key-results", "goal-check-ins", "mentoring-sessions", "mentor-invitations"):
        assert f"/api/v1/orgs/{{org_slug}}/{path}/" in text
