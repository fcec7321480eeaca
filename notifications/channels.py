"""The two ways a reminder leaves: email (Django's backends) and an organization's chat webhook.

Webhook posts refuse private and loopback addresses (server-side request forgery),
check the address actually connected to (so DNS that changes after the check does
not help), follow no redirects, ignore proxy settings and time out.
``settings.WEBHOOKS_ALLOW_LOOPBACK`` admits loopback addresses for local development
and tests; private and link-local ranges stay refused. (``integrations`` applies the
same rule to its own webhooks; the two may share one function later.)
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import smtplib
import socket
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

WEBHOOK_TIMEOUT_SECONDS = 5


class WebhookRefused(Exception):
    """The webhook URL leads to an address we never post to, or the receiver refused (4xx)."""


class WebhookUnavailable(OSError):
    """The receiver is down or overloaded (5xx, 429): a channel-level failure."""


def is_channel_failure(error: BaseException) -> bool:
    """Is this failure about the way out (server down, overloaded) rather than the message?

    Channel-level: connection refused or reset, timeouts, DNS, an SMTP 4xx (try again
    later) or an SMTP server that hung up, a webhook 5xx or 429. These count against the
    channel's circuit breaker (:mod:`notifications.breaker`). Message-level: an SMTP 5xx
    (recipient or content refused), a webhook 4xx or a refused address: the row's own
    retries handle those.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, WebhookRefused):
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
    """Open a (checked) connection to the webhook host without posting; raise when it fails."""
    connection, _parts = _checked_connection(url, timeout)
    try:
        connection.connect()
    finally:
        connection.close()


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", False) else _("a loopback address")
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global:
        return _("a private or reserved address")
    return None


def webhook_url_problem(url: str) -> str | None:
    """Why a URL cannot be the organization's webhook, or None when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Enter an http or https URL.")
    if parts.username or parts.password:
        return _("Leave credentials out of the URL.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return None  # may resolve later; the connection is checked again when posting
    for info in infos:
        problem = _address_problem(info[4][0])
        if problem:
            return _("The host of this URL is %(problem)s.") % {"problem": problem}
    return None


def _check_peer(sock: socket.socket) -> None:
    address = sock.getpeername()[0]
    problem = _address_problem(address)
    if problem:
        sock.close()
        raise WebhookRefused(f"refused to post to {address}: {problem}")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        _check_peer(self.sock)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self):
        # TCP first, check where it landed, and only then speak TLS.
        http.client.HTTPConnection.connect(self)
        _check_peer(self.sock)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


def _checked_connection(url: str, timeout: float):
    """An unopened HTTP(S) connection to the URL's host that checks the address it lands on."""
    problem = webhook_url_problem(url)
    if problem:
        raise WebhookRefused(str(problem))
    parts = urlsplit(url)
    connection_class = _CheckedHTTPSConnection if parts.scheme == "https" else _CheckedHTTPConnection
    return connection_class(parts.hostname, parts.port, timeout=timeout), parts


def post_webhook(*, url: str, payload: dict, idempotency_key: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> int:
    """POST ``payload`` as JSON; return the status code of a 2xx answer, raise otherwise."""
    connection, parts = _checked_connection(url, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "cohort-platform-reminders/1",
                # The same on every attempt: a receiver that keeps ids drops a repeated delivery.
                "webhook-id": idempotency_key,
                "Idempotency-Key": idempotency_key,
            },
        )
        response = connection.getresponse()
        response.read(2000)
        status = response.status
    finally:
        connection.close()
    if 300 <= status < 400:
        raise WebhookRefused(f"HTTP {status}: redirect not followed")
    if status >= 500 or status == 429:
        raise WebhookUnavailable(f"HTTP {status}")
    if not 200 <= status < 300:
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
    email.send(fail_silently=False)
