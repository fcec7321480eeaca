"""The two ways a reminder leaves: email (Django's backends) and an organization's chat webhook.

Webhooks go through :mod:`core.outbound`, which ``integrations`` uses too: it resolves
the host, refuses it when any address is loopback (unless
``settings.WEBHOOKS_ALLOW_LOOPBACK``), private or otherwise not global, with one
neutral message and before connecting, and then connects to a vetted address itself
(so DNS that changes after the check does not help). It follows no redirects,
ignores proxy settings and times out.
"""

from __future__ import annotations

import smtplib
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from core import outbound

WEBHOOK_TIMEOUT_SECONDS = 5


class WebhookRefused(Exception):
    """The receiver refused the message (4xx) or redirected it (3xx, not followed).

    A URL or host we never post to raises :class:`core.outbound.DestinationRefused`.
    """


class WebhookUnavailable(OSError):
    """The receiver is down or overloaded (5xx, 429): a channel-level failure."""


def is_channel_failure(error: BaseException) -> bool:
    """Is this failure about the way out (server down, overloaded) rather than the message?

    Channel-level: connection refused or reset, timeouts, DNS, an SMTP 4xx (try again
    later) or an SMTP server that hung up, a webhook 5xx or 429. These count against the
    channel's circuit breaker (:mod:`notifications.breaker`). Message-level: an SMTP 5xx
    (recipient or content refused), a webhook 4xx or a refused host
    (:class:`core.outbound.DestinationRefused`): the row's own retries handle those.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, WebhookRefused | outbound.DestinationRefused):
        return False
    return isinstance(error, OSError)  # ConnectionError, TimeoutError, SMTPServerDisconnected, gaierror, ...


def email_channel_key() -> str:
    """The circuit key of outgoing email: the SMTP server, or the backend when it is not SMTP."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return f"smtp:{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    return f"email:{settings.EMAIL_BACKEND}"


def webhook_channel_key(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"webhook:{(parts.hostname or '').lower()}:{port}"


def probe_email(timeout: float) -> None:
    """Connect and greet the mail server without sending anything; raise when it does not answer."""
    from django.core.mail import get_connection

    connection = get_connection(fail_silently=False, timeout=timeout)
    connection.open()
    connection.close()


def probe_webhook(url: str, timeout: float = 5) -> None:
    """Connect to the webhook host (see :func:`core.outbound.probe`) without posting; raise when it fails."""
    outbound.probe(url, timeout=timeout)


def webhook_url_problem(url: str) -> str | None:
    """Why a URL cannot be the organization's webhook, or None when it can."""
    return outbound.url_problem(url)


def post_webhook(*, url: str, payload: dict, idempotency_key: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> int:
    """POST ``payload`` as JSON; return the status code of a 2xx answer, raise otherwise.

    A refused URL or host raises :class:`core.outbound.DestinationRefused` (one neutral
    message, nothing connected); a 3xx or 4xx :class:`WebhookRefused`; a 5xx or 429
    :class:`WebhookUnavailable`; network trouble an ``OSError``.
    """
    response = outbound.post_json(
        url,
        payload,
        {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "cohort-platform-reminders/1",
            # The same on every attempt: a receiver that keeps ids drops a repeated delivery.
            "webhook-id": idempotency_key,
            "Idempotency-Key": idempotency_key,
        },
        timeout=timeout,
        body_limit=2000,
    )
    status = response.status
    if response.is_redirect:
        raise WebhookRefused(f"HTTP {status}: redirect not followed")
    if status >= 500 or status == 429:
        raise WebhookUnavailable(f"HTTP {status}")
    if not response.ok:
        raise WebhookRefused(f"HTTP {status}")
    return status


def message_id(notification) -> str:
    """A Message-ID that is the same on every attempt, so receivers can drop a repeat."""
    domain = sender_address().rpartition("@")[2] or "localhost"
    return f"<notification.{notification.organization_id}.{notification.pk}@{domain}>"


def sender_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@example.com"


def send_email(*, notification, organization_name: str, unsubscribe_url: str, connection) -> None:
    """Send one notification as a multipart (text and HTML) email; raise on failure."""
    headers = {
        "Message-ID": message_id(notification),
        "Auto-Submitted": "auto-generated",  # RFC 3834: no auto-replies, please
        "X-Notification-Kind": notification.kind,
    }
    if unsubscribe_url:
        # RFC 8058 one-click unsubscribe: mail clients POST to the URL.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=notification.subject_line,
        body=notification.body_text,
        from_email=str(Address(display_name=organization_name, addr_spec=sender_address())),
        to=[notification.recipient],
        headers=headers,
        connection=connection,
    )
    if notification.body_html:
        email.attach_alternative(notification.body_html, "text/html")
    calendar = getattr(notification, "calendar", "")
    if calendar:
        # A calendar invitation (RFC 6047): the text/calendar part with its METHOD lets mail
        # apps offer "add to calendar"; the same text as invite.ics for those that only read files.
        method = "CANCEL" if "\nMETHOD:CANCEL" in calendar.replace("\r", "") else "REQUEST"
        email.attach_alternative(calendar, f"text/calendar; method={method}")
        email.attach("invite.ics", calendar, "application/ics")
    email.send(fail_silently=False)
