"""The delivery state machine: claim and commit before sending, record after, never resend on a guess.

In-process tests of each step, against the real database as the application role. The
same faults with a real worker, Redis and an SMTP sink are in ``test_worker.py``.
"""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from notifications import breaker, channels, services
from notifications.models import ChannelCircuit, DeliveryAttempt, Notification
from tests.factories.notifications import NotificationFactory

OBSERVING_BACKEND = "tests.notifications.test_delivery.ObservingBackend"
DOWN_BACKEND = "tests.notifications.test_delivery.DownBackend"
CUT_BACKEND = "tests.notifications.test_delivery.CuttingBackend"


class ObservingBackend(LocmemBackend):
    """Accepts messages; while it holds one, asks a second connection what the database says."""

    observer = None  # a cursor factory of another connection, set by the test
    seen: list = []

    def send_messages(self, messages):
        with self.observer.cursor() as cursor:
            cursor.execute(
                "SELECT n.status, n.attempts, a.finished_at IS NULL, a.succeeded"
                " FROM notifications_notification n JOIN notifications_deliveryattempt a"
                " ON a.notification_id = n.id AND a.attempt_id = n.attempt_id"
                " WHERE n.recipient = %s",
                [messages[0].to[0]],
            )
            ObservingBackend.seen.append((cursor.fetchone(), connection.in_atomic_block))
        return super().send_messages(messages)


class DownBackend(LocmemBackend):
    """A mail server that does not answer at all while ``down``; accepts everything after."""

    down = True
    opened = 0

    def open(self):
        DownBackend.opened += 1
        if DownBackend.down:
            raise ConnectionRefusedError("connection refused")
        return super().open()

    def send_messages(self, messages):
        if DownBackend.down:
            raise ConnectionRefusedError("connection refused")
        return super().send_messages(messages)


class CuttingBackend(LocmemBackend):
    """Accepts the message, and the worker's database connection dies before the outcome is recorded."""

    cut = None  # callable that terminates the relay's database backend

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        CuttingBackend.cut()
        return sent


def relay(organization):
    return services.notification_relay(organization=organization)


def reload(row):
    return Notification.objects.for_organization(row.organization).get(pk=row.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND=OBSERVING_BACKEND)
def test_the_attempt_is_committed_before_the_server_is_spoken_to(organization, always_open_settings, owner_connection):
    """While the server holds the message, another connection sees the row `sending`: no open transaction."""
    ObservingBackend.observer, ObservingBackend.seen = owner_connection, []
    owner_connection.set_autocommit(True)  # read what is committed, statement by statement
    row = NotificationFactory(organization=organization, recipient="minji@startup.test")

    assert relay(organization).sent == 1
    ((status, attempts, unfinished, succeeded), in_transaction) = ObservingBackend.seen[0]
    assert (status, attempts, unfinished, succeeded) == ("sending", 1, True, None)
    assert in_transaction is False  # nothing held open across the SMTP exchange
    row = reload(row)
    assert row.status == Notification.Status.SENT and row.attempts == 1
    (attempt,) = DeliveryAttempt.objects.for_organization(organization).filter(notification=row)
    assert attempt.succeeded is True and attempt.finished_at and attempt.attempt_id == row.attempt_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND=CUT_BACKEND)
def test_a_database_connection_lost_after_the_server_accepted_is_reconnected_and_recorded(
    organization, always_open_settings, owner_connection
):
    owner_connection.set_autocommit(True)
    rows = [NotificationFactory(organization=organization, recipient=f"founder{i}@startup.test") for i in range(3)]

    def cut():
        pid = connection.connection.info.backend_pid
        with owner_connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    CuttingBackend.cut = cut
    result = relay(organization)

    assert result.sent == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.recipient for r in rows)  # each once
    assert {reload(r).status for r in rows} == {Notification.Status.SENT}
    assert set(DeliveryAttempt.objects.for_organization(organization).values_list("succeeded", flat=True)) == {True}


def _lost_mid_send(row, minutes_ago=10):
    """What a worker that died after claiming leaves behind: a committed attempt, no outcome."""
    attempt_id = services.uuid.uuid4()
    claimed = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    Notification.objects.for_organization(row.organization).filter(pk=row.pk).update(
        status=Notification.Status.SENDING, attempt_id=attempt_id, claimed_at=claimed, claimed_by="dead:1", attempts=1
    )
    DeliveryAttempt.objects.create(
        organization=row.organization, notification=row, attempt_id=attempt_id, started_at=claimed, worker="dead:1"
    )
    return attempt_id


def test_an_email_left_sending_by_a_lost_worker_becomes_uncertain_and_is_not_resent(organization, always_open_settings):
    row = NotificationFactory(organization=organization)
    _lost_mid_send(row)
    fresh = NotificationFactory(organization=organization)
    recent = NotificationFactory(organization=organization)
    _lost_mid_send(recent, minutes_ago=0)  # still inside its lease: a live worker may be sending it

    result = relay(organization)

    assert (result.sent, result.uncertain) == (1, 1)
    assert [m.to[0] for m in mail.outbox] == [fresh.recipient]
    row = reload(row)
    assert row.status == Notification.Status.UNCERTAIN and "may or may not" in row.last_error
    (attempt,) = DeliveryAttempt.objects.for_organization(organization).filter(notification=row)
    assert attempt.finished_at and attempt.succeeded is None
    assert reload(recent).status == Notification.Status.SENDING
    assert result.retry_in_seconds and result.retry_in_seconds <= services.sending_lease().total_seconds() + 1
    assert relay(organization).sent == 0  # and never on its own later


def test_a_late_success_turns_an_uncertain_row_sent(organization, always_open_settings):
    row = NotificationFactory(organization=organization)
    attempt_id = _lost_mid_send(row)
    relay(organization)
    assert reload(row).status == Notification.Status.UNCERTAIN
    claim = services._Claim(row=reload(row), attempt_id=attempt_id, started=timezone.now())
    services._record_outcome(organization, claim, None, None, services.RelayResult())
    assert reload(row).status == Notification.Status.SENT


def test_a_webhook_left_sending_is_posted_again_with_the_same_webhook_id(
    organization, always_open_settings, webhook_receiver
):
    always_open_settings.webhook_url = webhook_receiver.url
    always_open_settings.save()
    row = NotificationFactory(organization=organization, channel="webhook", recipient="webhook")
    _lost_mid_send(row)
    assert relay(organization).sent == 1
    (request,) = webhook_receiver.requests
    assert request["headers"]["webhook-id"] == f"notification-{organization.id}-{row.pk}"
    assert reload(row).status == Notification.Status.SENT


def test_a_person_resends_an_uncertain_row_from_the_outbox(organization, always_open_settings, program_manager, client):
    row = NotificationFactory(organization=organization, subject_line="Due today: interviews")
    _lost_mid_send(row)
    relay(organization)
    client.force_login(program_manager)
    outbox = client.get(reverse("admin:notifications_notification_changelist"))
    assert "may or may not have reached" in outbox.content.decode()

    response = client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "retry_selected", "_selected_action": [row.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert relay(organization).sent == 1
    assert [m.subject for m in mail.outbox] == ["Due today: interviews"]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<notification.{organization.id}.{row.pk}@example.com>"
    assert reload(row).status == Notification.Status.SENT


def test_another_organizations_manager_neither_sees_nor_resends_uncertain_rows(
    organization, other_organization, always_open_settings, other_program_manager, client
):
    row = NotificationFactory(organization=organization)
    _lost_mid_send(row)
    relay(organization)
    client.force_login(other_program_manager)
    outbox = client.get(reverse("admin:notifications_notification_changelist"))
    assert "may or may not have reached" not in outbox.content.decode()
    client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "retry_selected", "_selected_action": [row.pk]},
    )
    assert reload(row).status == Notification.Status.UNCERTAIN
    assert services.notification_relay(organization=other_organization).sent == 0


@override_settings(EMAIL_BACKEND=DOWN_BACKEND, NOTIFICATIONS_BREAKER_FAILURES=3)
def test_an_outage_opens_the_circuit_and_spends_no_more_attempts(organization, always_open_settings, monkeypatch):
    rows = [NotificationFactory(organization=organization, recipient=f"f{i}@startup.test") for i in range(10)]
    DownBackend.opened, DownBackend.down = 0, True

    first = relay(organization)
    assert first.failed == 3  # then the circuit opened: the other seven were not claimed
    assert sorted(reload(r).attempts for r in rows) == [0] * 7 + [1] * 3
    assert first.retry_in_seconds == breaker.probe_seconds(0)
    (circuit,) = ChannelCircuit.objects.all()
    assert circuit.state == ChannelCircuit.State.OPEN and "refused" in circuit.last_error

    # However long it lasts: relays before the probe time claim nothing, a failed probe sends nothing.
    for _ in range(5):
        assert relay(organization).failed == 0
    later = timezone.now() + datetime.timedelta(seconds=breaker.probe_seconds(0) + 1)
    monkeypatch.setattr(breaker.timezone, "now", lambda: later)
    assert relay(organization).failed == 0
    assert DownBackend.opened == 1  # one probe, no message
    assert sum(reload(r).attempts for r in rows) == 3
    assert not Notification.objects.for_organization(organization).filter(status="failed").exists()


@override_settings(EMAIL_BACKEND=DOWN_BACKEND)
def test_after_the_server_returns_everything_due_goes_out(organization, always_open_settings, monkeypatch):
    rows = [NotificationFactory(organization=organization, recipient=f"f{i}@startup.test") for i in range(6)]
    DownBackend.down = True
    relay(organization)
    assert ChannelCircuit.objects.get().state == ChannelCircuit.State.OPEN
    DownBackend.down = False
    # The server is back; the probe is due: it succeeds, the circuit closes, the rows go out
    # (the three that failed once wait for their first back-off of 60 s, kept below a minute after recovery).
    later = timezone.now() + datetime.timedelta(seconds=61)
    monkeypatch.setattr(breaker.timezone, "now", lambda: later)
    monkeypatch.setattr(services.timezone, "now", lambda: later)
    result = relay(organization)
    assert result.sent == 6 and len(mail.outbox) == 6
    assert {reload(r).status for r in rows} == {Notification.Status.SENT}
    circuit = ChannelCircuit.objects.get()
    assert circuit.state == ChannelCircuit.State.CLOSED and circuit.consecutive_failures == 0


def test_failures_are_sorted_into_channel_and_message_problems():
    assert channels.is_channel_failure(ConnectionRefusedError())
    assert channels.is_channel_failure(TimeoutError())
    assert channels.is_channel_failure(smtplib.SMTPServerDisconnected("bye"))
    assert channels.is_channel_failure(smtplib.SMTPDataError(451, b"try later"))
    assert not channels.is_channel_failure(smtplib.SMTPDataError(554, b"rejected"))
    assert not channels.is_channel_failure(smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no")}))
    assert channels.is_channel_failure(channels.WebhookUnavailable("HTTP 503"))
    assert not channels.is_channel_failure(channels.WebhookRefused("HTTP 404"))
    assert not channels.is_channel_failure(ValueError("bad payload"))


def test_the_circuit_of_one_organizations_webhook_host_does_not_stop_another_organizations_email(
    organization, other_organization, always_open_settings, other_always_open_settings
):
    ChannelCircuit.objects.create(
        key="webhook:hooks.example.test:443",
        state=ChannelCircuit.State.OPEN,
        probe_at=timezone.now() + datetime.timedelta(minutes=5),
    )
    always_open_settings.webhook_url = "https://hooks.example.test/T1"
    always_open_settings.save(update_fields=["webhook_url"])
    NotificationFactory(organization=organization, channel="webhook", recipient="webhook")
    NotificationFactory(organization=organization)
    NotificationFactory(organization=other_organization)
    assert relay(organization).sent == 1  # the email; the webhook row waits for its host
    assert relay(other_organization).sent == 1
    assert Notification.objects.for_organization(organization).get(channel="webhook").attempts == 0
