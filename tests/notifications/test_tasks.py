"""Tasks (eager), the one-click unsubscribe page and the preview command."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from notifications import links, services, tasks
from notifications.models import Kind, Notification, Unsubscribe
from notifications.schedule import zone_of
from tests.factories.notifications import NotificationFactory
from tests.factories.programs import EnrollmentFactory, MilestoneFactory, RunFactory


@pytest.fixture
def due_today(organization, always_open_settings, program_manager):
    """A running cohort with a milestone due today (local date) and two founders."""
    today = timezone.now().astimezone(zone_of(organization)).date()
    run = RunFactory(
        program__organization=organization,
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=60),
        final_deadline=today + datetime.timedelta(days=55),
    )
    for _index in range(2):
        EnrollmentFactory(run=run, last_contact_at=timezone.now())
    MilestoneFactory(run=run, name="Customer interviews", due_on=today)
    return run


def test_planning_task_plans_and_rings_the_relay(organization, due_today, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.plan_organization.delay(organization_id=organization.id)
    subjects = sorted(m.subject for m in mail.outbox)
    assert len([s for s in subjects if "Customer interviews" in s]) == 2
    assert Notification.objects.for_organization(organization).filter(status="pending").count() == 0
    for message in mail.outbox:  # the one-click link of the header is the one in the text
        assert message.extra_headers["List-Unsubscribe"][1:-1] in message.body


def test_fan_out_tasks_reach_every_organization(
    organization, other_organization, due_today, other_always_open_settings
):
    NotificationFactory(organization=other_organization)
    assert tasks.plan_all_organizations.delay().get() == 2
    assert tasks.relay_all_organizations.delay().get() >= 1
    assert Notification.objects.for_organization(other_organization).get().status == Notification.Status.SENT


def test_tasks_for_a_vanished_organization_do_nothing(db):
    assert tasks.plan_organization.delay(organization_id=987654).get() == 0
    assert tasks.relay_organization.delay(organization_id=987654).get() == {}


# --- Unsubscribe -----------------------------------------------------------------------------


def _token(organization, email="minji@startup.test", kind=Kind.MILESTONE_UPCOMING, language="ko"):
    return links.unsubscribe_token(organization_id=organization.id, email=email, kind=kind, language=language)


def test_the_unsubscribe_link_asks_before_it_acts(organization):
    client = Client()
    response = client.get(f"/n/unsubscribe/{_token(organization)}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "수신 거부" in body and "minji@startup.test" in body
    assert not Unsubscribe.objects.for_organization(organization).exists()


def test_one_click_post_unsubscribes_without_csrf_and_cancels_waiting_rows(organization):
    waiting = NotificationFactory(
        organization=organization, recipient="minji@startup.test", kind=Kind.MILESTONE_UPCOMING
    )
    other_kind = NotificationFactory(organization=organization, recipient="minji@startup.test", kind=Kind.DIGEST_PM)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/n/unsubscribe/{_token(organization)}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert (
        Unsubscribe.objects.for_organization(organization)
        .filter(email="minji@startup.test", kind=Kind.MILESTONE_UPCOMING)
        .exists()
    )
    waiting.refresh_from_db()
    other_kind.refresh_from_db()
    assert waiting.status == Notification.Status.CANCELLED
    assert other_kind.status == Notification.Status.PENDING
    # Twice is fine.
    assert client.post(f"/n/unsubscribe/{_token(organization)}/").status_code == 200
    assert Unsubscribe.objects.for_organization(organization).count() == 1


def test_the_unsubscribe_page_speaks_the_recipients_language(organization):
    response = Client().get(f"/n/unsubscribe/{_token(organization, language='en')}/")
    assert "Stop sending" in response.content.decode()


@pytest.mark.parametrize("token", ["not-a-token", "eyJvIjoxfQ:1abc:forged"])
def test_forged_or_broken_unsubscribe_links_answer_404(organization, token):
    assert Client().post(f"/n/unsubscribe/{token}/").status_code == 404


def test_an_unsubscribe_link_only_touches_its_own_organization(organization, other_organization):
    token = _token(other_organization, email="shared@startup.test")
    Client().post(f"/n/unsubscribe/{token}/")
    assert not Unsubscribe.objects.for_organization(organization).exists()
    assert Unsubscribe.objects.for_organization(other_organization).count() == 1


# --- The preview command -----------------------------------------------------------------------


def test_the_preview_command_prints_what_will_be_sent_and_why(organization, due_today):
    out = io.StringIO()
    call_command("notifications_preview", organization.slug, "--run", str(due_today.id), "--language", "en", stdout=out)
    text = out.getvalue()
    assert "milestone_due_today" in text and "Customer interviews" in text
    assert "why:" in text


def test_the_preview_command_refuses_another_organizations_run(organization, other_organization, due_today):
    other_run = RunFactory(program__organization=other_organization)
    with pytest.raises(CommandError):
        call_command("notifications_preview", organization.slug, "--run", str(other_run.id), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("notifications_preview", "no-such-org", stdout=io.StringIO())


@pytest.mark.postgres
def test_planning_relaying_and_unsubscribing_work_under_row_level_security(
    app_role,
    organization,
    other_organization,
    due_today,
    other_always_open_settings,
    django_capture_on_commit_callbacks,
):
    theirs = NotificationFactory(organization=other_organization, recipient="theirs@startup.test")
    with app_role():
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.plan_organization.delay(organization_id=organization.id).get() > 0
        assert any("Customer interviews" in m.subject for m in mail.outbox)
        assert "theirs@startup.test" not in {m.to[0] for m in mail.outbox}
        tasks.relay_all_organizations.delay()  # the fan-out finds the other organization's due row
        assert "theirs@startup.test" in {m.to[0] for m in mail.outbox}
        response = Client().post(f"/n/unsubscribe/{_token(organization)}/")
        assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == Notification.Status.SENT
    assert Unsubscribe.objects.for_organization(organization).count() == 1


def test_a_row_left_sending_by_a_lost_worker_is_found_by_the_fan_out(organization, always_open_settings):
    row = NotificationFactory(organization=organization)
    Notification.objects.for_organization(organization).filter(pk=row.pk).update(
        status=Notification.Status.SENDING,
        claimed_at=timezone.now() - datetime.timedelta(minutes=10),
        attempts=1,
    )
    assert tasks.relay_all_organizations.delay().get() == 1
    assert Notification.objects.for_organization(organization).get(pk=row.pk).status == "uncertain"
    assert mail.outbox == []


def test_a_starting_worker_relays_what_is_due_at_once(organization, always_open_settings):
    NotificationFactory(organization=organization)
    tasks.relay_when_a_worker_starts()
    assert len(mail.outbox) == 1


def test_a_follow_up_the_broker_refuses_is_retried_then_left_to_beat(organization, monkeypatch, caplog):
    calls = []

    def broker_down(*args, **kwargs):
        calls.append(kwargs)
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.relay_organization, "apply_async", broker_down)
    assert services.ring_relay(organization_id=organization.id, countdown=5) is False
    (call,) = calls
    assert call["retry"] is True and call["retry_policy"]["max_retries"] >= 3 and call["countdown"] == 5
    assert "could not enqueue the relay" in caplog.text


def test_more_due_rows_ring_the_relay_again(organization, always_open_settings, monkeypatch):
    for index in range(services.RELAY_BATCH_SIZE + 1):
        NotificationFactory(organization=organization, recipient=f"f{index}@startup.test")
    rung = []
    monkeypatch.setattr(services, "ring_relay", lambda **kwargs: rung.append(kwargs))
    assert tasks.relay_organization.delay(organization_id=organization.id).get()["sent"] == services.RELAY_BATCH_SIZE
    assert rung == [{"organization_id": organization.id}]


def test_a_doorbell_with_a_backlog_rings_helpers_for_other_workers_and_follow_ups_do_not(
    organization, always_open_settings, monkeypatch, settings
):
    settings.NOTIFICATIONS_RELAY_FAN_OUT = 3
    batch = services.RELAY_BATCH_SIZE
    for index in range(5 * batch):
        NotificationFactory(organization=organization, recipient=f"f{index}@startup.test")
    rung = []
    monkeypatch.setattr(services, "ring_relay", lambda **kwargs: rung.append(kwargs) or True)

    # A follow-up (or a helper) sends its batch and rings one follow-up, nothing more.
    assert tasks.relay_organization.delay(organization_id=organization.id).get()["sent"] == batch
    assert rung == [{"organization_id": organization.id}]

    # A doorbell (planning, beat, a starting worker) with four batches left: the follow-up and two helpers.
    rung.clear()
    assert tasks.relay_organization.delay(organization_id=organization.id, fan_out=True).get()["sent"] == batch
    assert rung == [{"organization_id": organization.id}] * 3

    # No more helpers than batches left: one batch left is the follow-up's alone.
    pending = list(
        Notification.objects.for_organization(organization).filter(status="pending").values_list("id", flat=True)
    )
    Notification.objects.for_organization(organization).filter(id__in=pending[: len(pending) - batch - 1]).update(
        status="cancelled"
    )
    rung.clear()
    assert tasks.relay_organization.delay(organization_id=organization.id, fan_out=True).get()["sent"] == batch
    assert rung == [{"organization_id": organization.id}]


def test_doorbells_ask_for_a_fan_out(organization, always_open_settings, monkeypatch):
    NotificationFactory(organization=organization)
    calls = []
    monkeypatch.setattr(tasks.relay_organization, "apply_async", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(tasks.relay_organization, "delay", lambda **kwargs: calls.append({"kwargs": kwargs}))
    assert services.ring_relay(organization_id=organization.id, fan_out=True)
    assert tasks.relay_all_organizations.delay().get() == 1
    assert [call["kwargs"] for call in calls] == [{"organization_id": organization.id, "fan_out": True}] * 2
