"""`milestone.overdue`: announced once per milestone that passes its date unfinished."""

import datetime
import json

import pytest

from integrations import services as integration_services
from integrations.models import WebhookDelivery
from programs import services
from programs.models import Milestone, MilestoneProgress
from programs.tasks import milestones_overdue_announce, milestones_overdue_announce_all
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, MilestoneProgressFactory

TODAY = datetime.date(2026, 6, 20)


@pytest.fixture
def subscription(organization, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    return integration_services.webhook_subscription_create(
        organization=organization, url="http://127.0.0.1:9/hook", events=["milestone.overdue"]
    )


def overdue_deliveries(organization):
    return list(WebhookDelivery.objects.for_organization(organization).filter(event_type="milestone.overdue"))


def test_an_unfinished_milestone_past_its_date_is_announced_once(organization, run, subscription):
    behind, done = EnrollmentFactory(run=run), EnrollmentFactory(run=run)
    milestone = MilestoneFactory(run=run, name="Problem interviews", due_on=TODAY - datetime.timedelta(days=1))
    MilestoneProgressFactory(milestone=milestone, enrollment=done, status=MilestoneProgress.Status.DONE)

    assert services.milestones_overdue_announce(organization=organization, today=TODAY) == 1
    assert services.milestones_overdue_announce(organization=organization, today=TODAY) == 0

    (delivery,) = overdue_deliveries(organization)
    data = json.loads(delivery.body)["data"]
    assert data["enrollment_ids"] == [behind.id]
    assert (data["milestone_id"], data["name"], data["due_on"]) == (milestone.id, "Problem interviews", "2026-06-19")


def test_milestones_not_yet_due_done_by_everyone_or_completed_are_not_announced(organization, run, subscription):
    enrollment = EnrollmentFactory(run=run)
    MilestoneFactory(run=run, due_on=TODAY)  # due today: not overdue yet
    everyone_done = MilestoneFactory(run=run, due_on=TODAY - datetime.timedelta(days=3))
    MilestoneProgressFactory(milestone=everyone_done, enrollment=enrollment, status=MilestoneProgress.Status.DONE)
    completed = MilestoneFactory(run=run, due_on=TODAY - datetime.timedelta(days=3))
    services.milestone_complete(organization=organization, milestone=completed)

    assert services.milestones_overdue_announce(organization=organization, today=TODAY) == 0
    assert overdue_deliveries(organization) == []


def test_a_moved_deadline_lets_the_milestone_be_announced_again(organization, run, subscription):
    EnrollmentFactory(run=run)
    # The run's deadline is Friday June 26: D-7 is Friday June 19, yesterday.
    milestone = MilestoneFactory(run=run, days_before_deadline=7, due_on=TODAY - datetime.timedelta(days=1))
    assert services.milestones_overdue_announce(organization=organization, today=TODAY) == 1
    new_deadline = run.final_deadline + datetime.timedelta(days=3)  # the run ends on June 30
    services.run_deadline_move(organization=organization, run=run, new_deadline=new_deadline)
    milestone.refresh_from_db()
    assert milestone.overdue_announced_at is None
    assert milestone.due_on > TODAY - datetime.timedelta(days=1)


def test_the_periodic_task_announces_for_every_organization_and_nothing_across(
    organization, other_organization, run, other_run, subscription
):
    EnrollmentFactory(run=run)
    EnrollmentFactory(run=other_run)
    long_ago = datetime.date(2020, 1, 6)
    ours = MilestoneFactory(run=run, due_on=long_ago)
    theirs = MilestoneFactory(run=other_run, due_on=long_ago)

    assert milestones_overdue_announce_all.delay().get() >= 2
    assert Milestone.objects.for_organization(organization).get(pk=ours.pk).overdue_announced_at is not None
    assert Milestone.objects.for_organization(other_organization).get(pk=theirs.pk).overdue_announced_at is not None
    assert len(overdue_deliveries(organization)) == 1
    assert overdue_deliveries(other_organization) == []  # B has no subscription: nothing of A leaks to it

    assert milestones_overdue_announce.delay(organization_id=organization.id).get() == 0


def test_finding_who_is_behind_does_not_query_per_milestone(organization, run):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    EnrollmentFactory.create_batch(3, run=run)

    def queries_for(count):
        for _ in range(count):
            MilestoneFactory(run=run, due_on=TODAY - datetime.timedelta(days=1))
        Milestone.objects.for_organization(organization).update(overdue_announced_at=None)
        with CaptureQueriesContext(connection) as captured:
            assert services.milestones_overdue_announce(organization=organization, today=TODAY) >= count
        # Reads are constant; each announced milestone costs its claim (and savepoint).
        return len([q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")])

    assert queries_for(2) == queries_for(8)
