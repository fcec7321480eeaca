"""Moving a deadline earlier warns about milestones landing in the past and leaves finished ones alone."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from programs import selectors, services
from programs.models import Milestone, MilestoneProgress
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, MilestoneProgressFactory, RunFactory

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today(organization):
    return selectors.today_for(organization)


@pytest.fixture
def live_run(program, today):
    # Calendar days, so that the dates below do not depend on weekends and holidays.
    return RunFactory(
        program=program,
        name="Autumn cohort",
        starts_on=today - 60 * DAY,
        ends_on=today + 30 * DAY,
        final_deadline=today + 20 * DAY,
        skip_non_working_days=False,
    )


@pytest.fixture
def milestones(live_run, today):
    open_one = MilestoneFactory(run=live_run, name="Customer interviews", days_before_deadline=10)
    marked = MilestoneFactory(
        run=live_run, name="Problem statement", days_before_deadline=5, completed_at=timezone.now()
    )
    everyone_done = MilestoneFactory(run=live_run, name="Team charter", days_before_deadline=12)
    enrollment = EnrollmentFactory(run=live_run)
    MilestoneProgressFactory(enrollment=enrollment, milestone=everyone_done, status=MilestoneProgress.Status.DONE)
    demo = MilestoneFactory(run=live_run, name="Demo day", days_before_deadline=0)
    return {"open": open_one, "marked": marked, "everyone_done": everyone_done, "demo": demo}


@pytest.fixture
def pm_client(program_manager, admin_client_for):
    client = admin_client_for(program_manager)
    client.cookies["django_language"] = "en"
    return client


def _due(milestone):
    return Milestone.objects.for_organization(milestone.organization).get(pk=milestone.pk).due_on


def test_the_preview_lists_milestones_landing_in_the_past_and_the_finished_ones(
    organization, live_run, milestones, today
):
    preview = services.run_deadline_move_preview(organization=organization, run=live_run, new_deadline=today + 5 * DAY)
    assert [row.milestone.name for row in preview.into_past] == ["Team charter", "Customer interviews"]
    assert {row.milestone.name for row in preview.finished_rows} == {"Problem statement", "Team charter"}
    kept = {row.milestone.name: row.new_due_on for row in preview.rows if row.completed}
    assert kept == {"Problem statement": today + 15 * DAY, "Team charter": today + 8 * DAY}


def test_the_move_deadline_page_warns_before_confirming(pm_client, live_run, milestones, today):
    url = reverse("admin:programs_run_move_deadline", args=[live_run.pk])
    body = pm_client.post(url, {"final_deadline": f"{today + 5 * DAY:%Y-%m-%d}"}).content.decode()

    past = body.split('id="warning-past"')[1].split("</div>")[0]
    assert f"before today, {today:%Y-%m-%d}" in past
    assert f"Customer interviews: {today + 10 * DAY:%Y-%m-%d} → {today - 5 * DAY:%Y-%m-%d}" in past
    assert "Team charter" in past and "only if you also move the finished milestones" in past
    assert "Demo day" not in past
    finished = body.split('id="warning-finished"')[1].split("</div>")[0]
    assert "Problem statement" in finished and "Team charter" in finished
    assert f"would move to {today:%Y-%m-%d}" in finished
    assert 'name="move_finished"' in body


def test_confirming_keeps_finished_milestones_unless_the_pm_chooses_to_move_them(
    pm_client, live_run, milestones, today
):
    url = reverse("admin:programs_run_move_deadline", args=[live_run.pk])
    new = f"{today + 5 * DAY:%Y-%m-%d}"
    assert pm_client.post(url, {"final_deadline": new, "confirm": "yes"}).status_code == 302
    assert _due(milestones["open"]) == today - 5 * DAY  # warned, then moved as confirmed
    assert _due(milestones["demo"]) == today + 5 * DAY
    assert _due(milestones["marked"]) == today + 15 * DAY  # finished: kept
    assert _due(milestones["everyone_done"]) == today + 8 * DAY

    later = f"{today + 6 * DAY:%Y-%m-%d}"
    response = pm_client.post(url, {"final_deadline": later, "confirm": "yes", "move_finished": "on"})
    assert response.status_code == 302
    assert _due(milestones["marked"]) == today + 1 * DAY
    assert _due(milestones["everyone_done"]) == today - 6 * DAY


def test_without_finished_milestones_there_is_no_choice_to_make(pm_client, live_run, today):
    MilestoneFactory(run=live_run, name="Pitch deck", days_before_deadline=3)
    url = reverse("admin:programs_run_move_deadline", args=[live_run.pk])
    body = pm_client.post(url, {"final_deadline": f"{today + 30 * DAY:%Y-%m-%d}"}).content.decode()
    assert 'id="warning-past"' not in body and 'id="warning-finished"' not in body
    assert 'name="move_finished"' not in body


def test_another_organizations_pm_cannot_preview_or_move(
    other_program_manager, admin_client_for, live_run, milestones, today
):
    client = admin_client_for(other_program_manager)
    url = reverse("admin:programs_run_move_deadline", args=[live_run.pk])
    new = f"{today + 5 * DAY:%Y-%m-%d}"
    assert client.post(url, {"final_deadline": new}).status_code == 404
    assert client.post(url, {"final_deadline": new, "confirm": "yes", "move_finished": "on"}).status_code == 404
    assert _due(milestones["marked"]) == today + 15 * DAY
