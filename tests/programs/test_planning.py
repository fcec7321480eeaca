"""Backward planning: milestones counted back from the final deadline, working days, re-planning."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from programs import planning, services
from programs.models import Milestone, Run
from tests.factories.programs import MilestoneFactory, MilestoneTemplateFactory, RunFactory

D = datetime.date


@pytest.fixture
def autumn_run(program):
    # Demo day on Monday 2026-10-05; Chuseok falls on 2026-09-24..26.
    return RunFactory(
        program=program,
        name="2026 가을",
        starts_on=D(2026, 8, 3),
        ends_on=D(2026, 10, 9),
        final_deadline=D(2026, 10, 5),
    )


def test_due_dates_count_back_and_skip_korean_holidays_and_weekends():
    assert planning.due_date_backwards(D(2026, 10, 5), 10, skip_non_working_days=True) == D(2026, 9, 23)  # Chuseok
    assert planning.due_date_backwards(D(2026, 10, 5), 2, skip_non_working_days=True) == D(2026, 10, 2)  # Saturday
    assert planning.due_date_backwards(D(2026, 10, 5), 5, skip_non_working_days=True) == D(2026, 9, 30)
    assert planning.due_date_backwards(D(2026, 10, 5), 10, skip_non_working_days=False) == D(2026, 9, 25)


def test_the_organizations_country_decides_the_holidays():
    assert planning.due_date_backwards(D(2026, 12, 28), 3, skip_non_working_days=True, country="GB") == D(2026, 12, 24)
    assert planning.is_working_day(D(2026, 9, 25), country="GB")
    assert not planning.is_working_day(D(2026, 9, 25), country="KR")


def test_planning_a_run_turns_templates_into_dated_milestones(organization, autumn_run):
    for name, days in (("문제 정의", 30), ("MVP", 10), ("피치덱", 2)):
        MilestoneTemplateFactory(program=autumn_run.program, name=name, days_before_deadline=days)
    milestones = services.run_plan(organization=organization, run=autumn_run)
    assert [(m.name, m.due_on) for m in milestones] == [
        ("문제 정의", D(2026, 9, 4)),  # Saturday 09-05 → Friday
        ("MVP", D(2026, 9, 23)),
        ("피치덱", D(2026, 10, 2)),
    ]


def test_planning_twice_updates_instead_of_duplicating(organization, autumn_run):
    template = MilestoneTemplateFactory(program=autumn_run.program, days_before_deadline=10)
    services.run_plan(organization=organization, run=autumn_run)
    template.days_before_deadline = 5
    template.save()
    services.run_plan(organization=organization, run=autumn_run)
    milestone = Milestone.objects.for_organization(organization).get()
    assert (milestone.days_before_deadline, milestone.due_on) == (5, D(2026, 9, 30))


def test_a_plan_before_the_run_starts_is_reported_not_silently_accepted(organization, autumn_run):
    MilestoneTemplateFactory(program=autumn_run.program, name="사전 과제", days_before_deadline=90)
    preview = services.run_plan_preview(organization=organization, run=autumn_run)
    assert [row.planned.name for row in preview.before_start] == ["사전 과제"]
    with pytest.raises(ValidationError) as error:
        services.run_plan(organization=organization, run=autumn_run)
    assert "사전 과제" in str(error.value)
    assert not Milestone.objects.for_organization(organization).exists()
    services.run_plan(organization=organization, run=autumn_run, accept_before_start=True)
    assert Milestone.objects.for_organization(organization).count() == 1


def test_moving_the_deadline_replans_open_milestones_and_keeps_completed_ones(organization, autumn_run):
    open_one = MilestoneFactory(run=autumn_run, days_before_deadline=5, due_on=D(2026, 9, 30))
    done_one = MilestoneFactory(
        run=autumn_run, days_before_deadline=20, due_on=D(2026, 9, 15), completed_at=timezone.now()
    )
    preview = services.run_deadline_move_preview(organization=organization, run=autumn_run, new_deadline=D(2026, 10, 8))
    assert {(row.milestone.pk, row.old_due_on, row.new_due_on) for row in preview.rows} == {
        (open_one.pk, D(2026, 9, 30), D(2026, 10, 2)),
        (done_one.pk, D(2026, 9, 15), D(2026, 9, 15)),
    }
    autumn_run.refresh_from_db()
    assert autumn_run.final_deadline == D(2026, 10, 5)  # a preview changes nothing
    services.run_deadline_move(organization=organization, run=autumn_run, new_deadline=D(2026, 10, 8))
    open_one.refresh_from_db()
    done_one.refresh_from_db()
    autumn_run.refresh_from_db()
    assert autumn_run.final_deadline == D(2026, 10, 8)
    assert (open_one.due_on, done_one.due_on) == (D(2026, 10, 2), D(2026, 9, 15))


@pytest.mark.parametrize(
    "starts_on, ends_on, final_deadline, field",
    [
        (D(2026, 5, 1), D(2026, 4, 1), D(2026, 4, 20), "ends_on"),
        (D(2026, 5, 1), D(2026, 7, 1), D(2026, 4, 20), "final_deadline"),
        (D(2026, 5, 1), D(2026, 7, 1), D(2026, 8, 1), "final_deadline"),
    ],
)
def test_bad_run_dates_are_refused_with_a_clear_message(
    organization, program, starts_on, ends_on, final_deadline, field
):
    with pytest.raises(ValidationError) as error:
        services.run_create(
            organization=organization,
            program=program,
            name="잘못된 날짜",
            starts_on=starts_on,
            ends_on=ends_on,
            final_deadline=final_deadline,
        )
    assert field in error.value.message_dict
    assert not Run.objects.for_organization(organization).filter(name="잘못된 날짜").exists()


def test_a_deadline_move_before_the_start_is_refused(organization, autumn_run):
    with pytest.raises(ValidationError) as error:
        services.run_deadline_move(organization=organization, run=autumn_run, new_deadline=D(2026, 7, 1))
    assert "final_deadline" in error.value.message_dict


def test_planning_another_organizations_run_is_refused(organization, other_run):
    with pytest.raises(ValidationError):
        services.run_plan(organization=organization, run=other_run)
    with pytest.raises(ValidationError):
        services.run_deadline_move_preview(organization=organization, run=other_run, new_deadline=D(2026, 6, 1))


def test_a_milestone_for_another_organizations_run_is_refused(organization, other_run):
    milestone = Milestone(
        organization=organization, run=other_run, name="x", days_before_deadline=1, due_on=D(2026, 6, 1)
    )
    with pytest.raises(ValidationError) as error:
        milestone.full_clean()
    assert "run" in error.value.message_dict


def test_the_calendar_feed_lists_the_milestones(client, organization, autumn_run):
    MilestoneFactory(run=autumn_run, name="MVP 시연", days_before_deadline=10, due_on=D(2026, 9, 23))
    response = client.get(f"/p/calendar/{organization.slug}/{autumn_run.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "SUMMARY:D-10 MVP 시연" in body and "DTSTART;VALUE=DATE:20260923" in body
    assert "DTSTART;VALUE=DATE:20261005" in body  # the final deadline itself


def test_the_calendar_feed_needs_the_right_secret_and_organization(
    client, organization, other_organization, autumn_run
):
    assert client.get(f"/p/calendar/{organization.slug}/wrong-token.ics").status_code == 404
    assert client.get(f"/p/calendar/{other_organization.slug}/{autumn_run.calendar_token}.ics").status_code == 404


def test_a_milestone_everyone_has_done_stays_when_the_deadline_moves(organization, autumn_run):
    from tests.factories.programs import EnrollmentFactory, MilestoneProgressFactory

    handed_in = MilestoneFactory(run=autumn_run, days_before_deadline=20, due_on=D(2026, 9, 15))
    for enrollment in EnrollmentFactory.create_batch(2, run=autumn_run):
        MilestoneProgressFactory(milestone=handed_in, enrollment=enrollment, status="done")
    EnrollmentFactory(run=autumn_run, status="dropped")  # a dropped participant does not hold it back
    services.run_deadline_move(organization=organization, run=autumn_run, new_deadline=D(2026, 10, 8))
    handed_in.refresh_from_db()
    assert handed_in.due_on == D(2026, 9, 15)
