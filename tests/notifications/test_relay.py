"""The relay: sends due rows once, logs every attempt, retries with back-off, cancels what is moot."""

import datetime
import json
import smtplib
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from core import outbound, rls
from notifications import channels, services
from notifications.models import Channel, ChannelCircuit, DeliveryAttempt, Kind, Notification
from programs.models import HelpRequest, MilestoneProgress
from tests.factories.notifications import NotificationFactory, NotificationSettingsFactory, UnsubscribeFactory
from tests.factories.programs import HelpRequestFactory, MilestoneFactory, MilestoneProgressFactory

FAILING_BACKEND = "tests.notifications.test_relay.FailingEmailBackend"
REFUSING_BACKEND = "tests.notifications.test_relay.RefusingEmailBackend"
REFUSED = "DestinationRefused: The URL's host is not allowed."


class FailingEmailBackend:
    """An email backend whose server is always down."""

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


class RefusingEmailBackend(FailingEmailBackend):
    """A mail server that is up but refuses the recipient (550): a message-level failure."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"5.1.1 mailbox unavailable")})


def relay(organization):
    return services.notification_relay(organization=organization)


def reload(row):
    return Notification.objects.for_organization(row.organization).get(pk=row.pk)


def test_a_due_row_is_sent_once_with_unsubscribe_headers(organization, always_open_settings):
    row = NotificationFactory(organization=organization, recipient="minji@startup.test", language="ko")

    result = relay(organization)
    assert (result.sent, result.failed) == (1, 0)
    (email,) = mail.outbox
    assert email.to == ["minji@startup.test"]
    assert email.subject == row.subject_line
    assert email.alternatives[0][1] == "text/html"
    assert email.extra_headers["List-Unsubscribe"].startswith("<http")
    assert "/n/unsubscribe/" in email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.extra_headers["Message-ID"] == f"<notification.{organization.id}.{row.pk}@example.com>"
    assert "한빛창업학교" in email.from_email

    row = reload(row)
    assert row.status == Notification.Status.SENT and row.attempts == 1 and row.sent_at is not None
    (attempt,) = DeliveryAttempt.objects.for_organization(organization).filter(notification=row)
    assert attempt.succeeded and attempt.worker

    assert relay(organization).sent == 0
    assert len(mail.outbox) == 1


def test_rows_not_yet_due_wait(organization, always_open_settings):
    NotificationFactory(organization=organization, scheduled_for=timezone.now() + datetime.timedelta(minutes=5))
    assert relay(organization).sent == 0
    assert mail.outbox == []


def test_the_relay_sends_only_its_own_organizations_rows(
    organization, other_organization, always_open_settings, other_always_open_settings
):
    NotificationFactory(organization=other_organization)
    assert relay(organization).sent == 0
    assert relay(other_organization).sent == 1


@override_settings(EMAIL_BACKEND=REFUSING_BACKEND)
def test_a_refused_message_is_logged_and_retried_with_back_off_then_given_up(organization, always_open_settings):
    row = NotificationFactory(organization=organization)
    before = timezone.now()
    result = relay(organization)
    assert (result.sent, result.failed, result.retry_in_seconds) == (0, 1, 60)
    row = reload(row)
    assert row.status == Notification.Status.PENDING and row.attempts == 1
    assert "mailbox unavailable" in row.last_error
    assert row.next_attempt_at >= before + datetime.timedelta(seconds=60)
    (attempt,) = DeliveryAttempt.objects.for_organization(organization).filter(notification=row)
    assert attempt.succeeded is False and "SMTPRecipientsRefused" in attempt.error and attempt.finished_at

    for expected_attempts in range(2, services.MAX_ATTEMPTS + 1):
        Notification.objects.for_organization(organization).filter(pk=row.pk).update(next_attempt_at=timezone.now())
        relay(organization)
        assert reload(row).attempts == expected_attempts
    row = reload(row)
    assert row.status == Notification.Status.FAILED
    assert DeliveryAttempt.objects.for_organization(organization).filter(notification=row).count() == 5
    # A refused recipient says nothing about the server: its circuit stays closed.
    assert not ChannelCircuit.objects.filter(state=ChannelCircuit.State.OPEN).exists()


def test_retry_delays_stay_below_the_brokers_visibility_timeout():
    visibility = services.broker_visibility_timeout()
    assert all(services.retry_delay_seconds(n) < visibility for n in range(1, 10))
    with override_settings(CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 600}):
        assert max(services.retry_delay_seconds(n) for n in range(1, 10)) == 300


def test_retrying_a_failed_row_from_the_outbox_sends_it(organization, always_open_settings):
    row = NotificationFactory(organization=organization, status=Notification.Status.FAILED, attempts=5)
    services.notification_retry(organization=organization, notification=row)
    assert relay(organization).sent == 1
    assert reload(row).status == Notification.Status.SENT


def test_a_help_request_answered_before_sending_cancels_its_reminder(organization, always_open_settings, enrollment):
    help_request = HelpRequestFactory(enrollment=enrollment)
    row = NotificationFactory(
        organization=organization,
        kind=Kind.HELP_REQUEST_UNANSWERED,
        subject_key=f"help_request:{help_request.id}",
        slot="unanswered",
    )
    HelpRequest.objects.for_organization(organization).filter(pk=help_request.pk).update(
        status=HelpRequest.Status.ANSWERED, first_response_at=timezone.now()
    )
    assert relay(organization).cancelled == 1
    row = reload(row)
    assert row.status == Notification.Status.CANCELLED and row.last_error
    assert mail.outbox == []


def test_a_milestone_submitted_before_sending_cancels_its_reminder(organization, always_open_settings, enrollment):
    milestone = MilestoneFactory(run=enrollment.run)
    row = NotificationFactory(
        organization=organization, subject_key=f"milestone:{milestone.id}:enrollment:{enrollment.id}"
    )
    MilestoneProgressFactory(milestone=milestone, enrollment=enrollment, status=MilestoneProgress.Status.DONE)
    assert relay(organization).cancelled == 1
    assert reload(row).status == Notification.Status.CANCELLED


def test_an_unsubscribe_after_planning_stops_the_message(organization, always_open_settings):
    row = NotificationFactory(organization=organization, recipient="alex@startup.test")
    UnsubscribeFactory(organization=organization, email="alex@startup.test", kind=row.kind)
    assert relay(organization).cancelled == 1
    assert mail.outbox == []


def test_late_rows_wait_out_quiet_hours(organization, reminder_settings, monkeypatch):
    # 23:00 on a Tuesday in Seoul; the row was for 09:00.
    night = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)
    row = NotificationFactory(organization=organization, scheduled_for=night - datetime.timedelta(hours=14))
    monkeypatch.setattr(services.timezone, "now", lambda: night)
    assert relay(organization).sent == 0
    assert reload(row).next_attempt_at == datetime.datetime(2026, 3, 10, 23, 0, tzinfo=datetime.UTC)  # 08:00


def test_a_row_planned_just_now_also_waits_out_quiet_hours(organization, reminder_settings, monkeypatch):
    """A program manager's "plan now" (or the demo) at 23:00 goes out at 08:00, not at night."""
    night = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)
    row = NotificationFactory(organization=organization, scheduled_for=night - datetime.timedelta(minutes=1))
    monkeypatch.setattr(services.timezone, "now", lambda: night)
    result = relay(organization)
    assert (result.sent, result.deferred) == (0, 1)
    assert mail.outbox == []
    assert reload(row).next_attempt_at == datetime.datetime(2026, 3, 10, 23, 0, tzinfo=datetime.UTC)  # 08:00 Seoul
    morning = datetime.datetime(2026, 3, 10, 23, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(services.timezone, "now", lambda: morning)
    assert relay(organization).sent == 1


def test_a_retry_never_lands_in_quiet_hours(organization, reminder_settings, monkeypatch):
    """20:59 Seoul: a failure's 60 s back-off would fall at 21:00; the row waits for 08:00."""
    evening = datetime.datetime(2026, 3, 10, 11, 59, tzinfo=datetime.UTC)
    row = NotificationFactory(organization=organization, scheduled_for=evening)
    monkeypatch.setattr(services.timezone, "now", lambda: evening)
    with override_settings(EMAIL_BACKEND=REFUSING_BACKEND):
        assert relay(organization).failed == 1
    assert reload(row).next_attempt_at == datetime.datetime(2026, 3, 10, 23, 0, tzinfo=datetime.UTC)


def test_email_reaches_an_smtp_server_as_text_and_html(organization, always_open_settings, smtp_sink):
    row = NotificationFactory(organization=organization, recipient="minji@startup.test", language="ko")
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp_sink.port
    ):
        assert relay(organization).sent == 1
    assert smtp_sink.wait_for(1, timeout=5)
    (message,) = smtp_sink.messages
    assert message["To"] == "minji@startup.test"
    assert message["Message-ID"] == f"<notification.{organization.id}.{row.pk}@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}


# --- Webhooks --------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200
    location = ""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"headers": dict(self.headers), "body": json.loads(body)})
        self.send_response(type(self).status)
        if type(self).location:
            self.send_header("Location", type(self).location)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_receiver():
    _Receiver.received = []
    _Receiver.status = 200
    _Receiver.location = ""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_port}/hooks/reminders"
    server.shutdown()
    server.server_close()


def _webhook_row(organization):
    return NotificationFactory(
        organization=organization,
        kind=Kind.DIGEST_PM,
        channel=Channel.WEBHOOK,
        recipient="webhook",
        subject_key=f"organization:{organization.id}",
        payload={"text": "*Weekly digest*", "kind": "digest_pm"},
    )


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=True)
def test_the_team_chat_gets_json_with_an_idempotency_key(organization, always_open_settings, webhook_receiver):
    _server, url = webhook_receiver
    NotificationSettingsFactory._meta.model.objects.for_organization(organization).update(webhook_url=url)
    row = _webhook_row(organization)
    assert relay(organization).sent == 1
    (request,) = _Receiver.received
    assert request["body"]["text"] == "*Weekly digest*"
    assert request["body"]["notification_id"] == row.pk
    assert request["headers"]["Idempotency-Key"] == f"notification-{organization.id}-{row.pk}"


def test_loopback_webhooks_are_refused_unless_allowed(organization, always_open_settings, webhook_receiver):
    _server, url = webhook_receiver
    NotificationSettingsFactory._meta.model.objects.for_organization(organization).update(webhook_url=url)
    row = _webhook_row(organization)
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False):
        assert relay(organization).failed == 1
    assert _Receiver.received == []
    assert reload(row).last_error == REFUSED


def test_an_open_and_a_closed_webhook_port_leave_the_same_last_error_and_no_connection(
    organization, always_open_settings, webhook_receiver, monkeypatch
):
    server, open_url = webhook_receiver
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    connects = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(
        socket.socket, "connect", lambda sock, address: (connects.append(address), real_connect(sock, address))[1]
    )
    outcomes = []
    for url in (open_url, f"http://127.0.0.1:{closed_port}/hooks/reminders"):
        NotificationSettingsFactory._meta.model.objects.for_organization(organization).update(webhook_url=url)
        row = _webhook_row(organization)
        with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False):
            assert relay(organization).failed == 1
        row = reload(row)
        attempt = DeliveryAttempt.objects.for_organization(organization).get(notification=row)
        outcomes.append((row.status, row.last_error, attempt.error))
        row.delete()
    assert outcomes[0] == outcomes[1] == (Notification.Status.PENDING, REFUSED, REFUSED)
    assert [address for address in connects if address[1] in (server.server_port, closed_port)] == []
    assert _Receiver.received == []
    # A refused host is about the message, not the way out: the webhook circuit is untouched.
    assert not ChannelCircuit.objects.filter(key__startswith="webhook:").exclude(consecutive_failures=0).exists()


def test_a_webhook_name_that_rebinds_to_a_private_address_is_refused_when_sending(
    organization, always_open_settings, webhook_receiver, monkeypatch
):
    server, _url = webhook_receiver
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    real = socket.getaddrinfo

    def tenant_dns(host, port, *args, **kwargs):
        if host != "chat.example.com":
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", tenant_dns)
    url = f"http://chat.example.com:{server.server_port}/hooks/reminders"
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False):
        settings = NotificationSettingsFactory._meta.model.objects.for_organization(organization).get()
        settings.webhook_url = url
        settings.full_clean()  # public while saved
        settings.save()
        row = _webhook_row(organization)
        assert relay(organization).failed == 1
    assert _Receiver.received == []
    assert reload(row).last_error == REFUSED


def test_a_refused_host_is_not_a_channel_failure_but_an_overloaded_receiver_is():
    assert not channels.is_channel_failure(outbound.DestinationRefused(outbound.refusal_message()))
    assert not channels.is_channel_failure(channels.WebhookRefused("HTTP 404"))
    assert channels.is_channel_failure(channels.WebhookUnavailable("HTTP 429"))


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=True)
@pytest.mark.parametrize(
    ("status", "error"), [(503, "WebhookUnavailable"), (429, "WebhookUnavailable"), (404, "WebhookRefused")]
)
def test_post_webhook_sorts_answers_into_channel_and_message_failures(webhook_receiver, status, error):
    _server, url = webhook_receiver
    _Receiver.status = status
    with pytest.raises(getattr(channels, error), match=f"HTTP {status}"):
        channels.post_webhook(url=url, payload={"text": "hi"}, idempotency_key="k-1")
    (request,) = _Receiver.received
    assert request["headers"]["Idempotency-Key"] == "k-1" and request["body"] == {"text": "hi"}


def test_probe_webhook_refuses_loopback_with_the_neutral_message(webhook_receiver):
    _server, url = webhook_receiver
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False), pytest.raises(outbound.DestinationRefused) as refused:
        channels.probe_webhook(url)
    assert str(refused.value) == outbound.refusal_message()
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=True):
        channels.probe_webhook(url)


@override_settings(WEBHOOKS_ALLOW_LOOPBACK=True)
def test_webhook_redirects_are_not_followed(organization, always_open_settings, webhook_receiver):
    _server, url = webhook_receiver
    _Receiver.status = 302
    _Receiver.location = "http://169.254.169.254/latest/meta-data/"
    NotificationSettingsFactory._meta.model.objects.for_organization(organization).update(webhook_url=url)
    row = _webhook_row(organization)
    assert relay(organization).failed == 1
    assert len(_Receiver.received) == 1
    assert "redirect not followed" in reload(row).last_error


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/", "ftp://x.test/"],
)
def test_settings_refuse_webhook_urls_to_private_places(organization, url):
    settings = NotificationSettingsFactory.build(organization=organization, webhook_url=url)
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=False), pytest.raises(ValidationError) as error:
        settings.full_clean()
    assert "webhook_url" in error.value.message_dict


def test_settings_validation(organization):
    settings = NotificationSettingsFactory.build(
        organization=organization, send_hour=22, working_days=[], enabled_kinds=["nonsense"]
    )
    settings.help_request_escalation_hours = 10
    with pytest.raises(ValidationError) as error:
        settings.full_clean()
    assert set(error.value.message_dict) >= {
        "send_hour",
        "working_days",
        "enabled_kinds",
        "help_request_escalation_hours",
    }


# --- SKIP LOCKED on PostgreSQL ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_relay_is_skipped_not_waited_for(postgres, organization, always_open_settings):
    from django.db import connections

    busy = NotificationFactory(organization=organization, recipient="busy@startup.test")
    free = NotificationFactory(organization=organization, recipient="free@startup.test")
    locked, release = threading.Event(), threading.Event()

    def other_relay_holds_the_row():
        try:
            # Another relay's own transaction, in the organization's context (as the relay opens it).
            with rls.organization_context(organization.pk):
                Notification.objects.for_organization(organization).select_for_update().get(pk=busy.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_relay_holds_the_row)
    thread.start()
    try:
        assert locked.wait(10)
        assert connection.features.has_select_for_update_skip_locked
        result = relay(organization)
        assert result.sent == 1
        assert [m.to for m in mail.outbox] == [["free@startup.test"]]
    finally:
        release.set()
        thread.join(10)
    assert relay(organization).sent == 1
    assert reload(busy).status == reload(free).status == Notification.Status.SENT
