"""The program manager's pages: outbox, preview, settings; scoped to the active organization."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Kind, Notification, NotificationSettings
from notifications.schedule import zone_of
from notifications.services import notification_settings_update
from tests.factories.notifications import NotificationFactory, NotificationSettingsFactory, UnsubscribeFactory
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, RunFactory

CHANGELIST = "admin:notifications_notification_changelist"
PREVIEW = "admin:notifications_notification_preview"
PLAN_NOW = "admin:notifications_notification_plan_now"


@pytest.fixture
def pm_client(program_manager, admin_client_for):
    return admin_client_for(program_manager)


def test_the_outbox_lists_only_the_organizations_rows(organization, other_organization, pm_client):
    NotificationFactory(organization=organization, recipient="mine@startup.test")
    NotificationFactory(organization=other_organization, recipient="theirs@startup.test")
    body = pm_client.get(reverse(CHANGELIST)).content.decode()
    assert "mine@startup.test" in body
    assert "theirs@startup.test" not in body


def test_another_organizations_row_answers_404(other_organization, pm_client):
    theirs = NotificationFactory(organization=other_organization)
    assert pm_client.get(reverse("admin:notifications_notification_change", args=[theirs.pk])).status_code == 404


def test_a_row_shows_why_and_what_was_sent(organization, pm_client):
    row = NotificationFactory(organization=organization, reason="Customer interviews is due today.")
    body = pm_client.get(reverse("admin:notifications_notification_change", args=[row.pk])).content.decode()
    assert "Customer interviews is due today." in body
    assert 'sandbox=""' in body  # the HTML is shown in a sandboxed frame


def test_the_outbox_list_takes_the_same_queries_for_3_or_30_rows(organization, pm_client):
    run = RunFactory(program__organization=organization)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert pm_client.get(reverse(CHANGELIST)).status_code == 200
        return len(captured.captured_queries)

    NotificationFactory.create_batch(3, organization=organization, run=run)
    few = queries()
    NotificationFactory.create_batch(27, organization=organization, run=run)
    assert queries() == few


def test_program_managers_retry_failed_rows(organization, pm_client):
    failed = NotificationFactory(organization=organization, status=Notification.Status.FAILED, attempts=5)
    response = pm_client.post(
        reverse(CHANGELIST), {"action": "retry_selected", "_selected_action": [failed.pk]}, follow=True
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status == Notification.Status.PENDING and failed.attempts == 0


def test_viewers_see_the_outbox_but_cannot_retry_or_plan(organization, viewer, admin_client_for):
    failed = NotificationFactory(organization=organization, status=Notification.Status.FAILED)
    client = admin_client_for(viewer)
    body = client.get(reverse(CHANGELIST)).content.decode()
    assert failed.recipient in body and "retry_selected" not in body
    client.post(reverse(CHANGELIST), {"action": "retry_selected", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == Notification.Status.FAILED
    assert client.post(reverse(PLAN_NOW)).status_code == 403


def test_the_preview_page_lists_a_runs_next_14_days(organization, other_organization, pm_client):
    NotificationSettingsFactory(organization=organization)
    today = timezone.now().astimezone(zone_of(organization)).date()
    run = RunFactory(
        program__organization=organization,
        name="Spring cohort",
        starts_on=today - datetime.timedelta(days=5),
        ends_on=today + datetime.timedelta(days=40),
        final_deadline=today + datetime.timedelta(days=40),
    )
    EnrollmentFactory(run=run, last_contact_at=timezone.now())
    MilestoneFactory(run=run, name="Pitch deck draft", due_on=today + datetime.timedelta(days=8))

    response = pm_client.get(reverse(PREVIEW), {"run": run.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Pitch deck draft" in body and 'id="preview-table"' in body

    other_run = RunFactory(program__organization=other_organization)
    assert pm_client.get(reverse(PREVIEW), {"run": other_run.pk}).status_code == 404
    assert pm_client.get(reverse(PREVIEW), {"run": "abc"}).status_code == 404


def test_plan_now_plans_today_without_waiting_for_the_send_hour(
    organization, pm_client, django_capture_on_commit_callbacks
):
    # Every day a working day: the test is about the send hour, not about weekends or holidays.
    notification_settings_update(
        organization=organization, working_days=[1, 2, 3, 4, 5, 6, 7], skip_public_holidays=False
    )
    today = timezone.now().astimezone(zone_of(organization)).date()
    run = RunFactory(
        program__organization=organization,
        starts_on=today - datetime.timedelta(days=5),
        ends_on=today + datetime.timedelta(days=40),
        final_deadline=today + datetime.timedelta(days=40),
    )
    EnrollmentFactory(run=run, last_contact_at=timezone.now())
    MilestoneFactory(run=run, due_on=today)
    with django_capture_on_commit_callbacks(execute=True):
        response = pm_client.post(reverse(PLAN_NOW))
    assert response.status_code == 302
    due_today = Notification.objects.for_organization(organization).filter(kind=Kind.MILESTONE_DUE_TODAY)
    assert due_today.count() == 1


def test_the_settings_page_is_one_per_organization(organization, other_organization, pm_client):
    url = reverse("admin:notifications_notificationsettings_changelist")
    assert pm_client.get(url)["Location"] == reverse("admin:notifications_notificationsettings_add")
    data = {
        "send_hour": 10,
        "quiet_hours_start": 22,
        "quiet_hours_end": 7,
        "working_days": [1, 2, 3, 4, 5],
        "skip_public_holidays": "on",
        "digest_weekday": 1,
        "enabled_kinds": [Kind.MILESTONE_UPCOMING, Kind.DIGEST_PM],
        "milestone_lead_days": 5,
        "assessment_closing_lead_days": 2,
        "help_request_response_hours": 12,
        "help_request_escalation_hours": 36,
        "webhook_url": "",
        "webhook_kinds": [],
    }
    response = pm_client.post(reverse("admin:notifications_notificationsettings_add"), data)
    assert response.status_code == 302
    saved = NotificationSettings.objects.for_organization(organization).get()
    assert (saved.send_hour, saved.milestone_lead_days, saved.enabled_kinds) == (
        10,
        5,
        [Kind.MILESTONE_UPCOMING, Kind.DIGEST_PM],
    )
    assert pm_client.get(url)["Location"] == reverse("admin:notifications_notificationsettings_change", args=[saved.pk])
    theirs = NotificationSettingsFactory(organization=other_organization)
    change = reverse("admin:notifications_notificationsettings_change", args=[theirs.pk])
    assert pm_client.get(change).status_code == 404


def test_settings_errors_are_form_errors(organization, pm_client):
    existing = NotificationSettingsFactory(organization=organization)
    url = reverse("admin:notifications_notificationsettings_change", args=[existing.pk])
    data = {
        "send_hour": 23,
        "quiet_hours_start": 21,
        "quiet_hours_end": 8,
        "working_days": [],
        "digest_weekday": 1,
        "milestone_lead_days": 3,
        "assessment_closing_lead_days": 2,
        "help_request_response_hours": 24,
        "help_request_escalation_hours": 48,
        "webhook_url": "http://10.0.0.8/hook",
    }
    response = pm_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"working_days", "webhook_url"} <= set(errors)
    existing.refresh_from_db()
    assert existing.send_hour == 9


def test_unsubscribes_are_scoped(organization, other_organization, pm_client):
    UnsubscribeFactory(organization=organization, email="mine@startup.test")
    UnsubscribeFactory(organization=other_organization, email="theirs@startup.test")
    body = pm_client.get(reverse("admin:notifications_unsubscribe_changelist")).content.decode()
    assert "mine@startup.test" in body and "theirs@startup.test" not in body


def test_another_organizations_unsubscribe_answers_404(other_organization, pm_client):
    theirs = UnsubscribeFactory(organization=other_organization)
    assert pm_client.get(reverse("admin:notifications_unsubscribe_change", args=[theirs.pk])).status_code == 404


def test_the_unsubscribe_list_takes_the_same_queries_for_3_or_30_rows(organization, pm_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert pm_client.get(reverse("admin:notifications_unsubscribe_changelist")).status_code == 200
        return len(captured.captured_queries)

    UnsubscribeFactory.create_batch(3, organization=organization)
    few = queries()
    UnsubscribeFactory.create_batch(27, organization=organization)
    assert queries() == few
