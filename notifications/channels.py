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
from dataclasses import dataclass, field
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
    if isinstance(
        error, WebhookRefused | outbound.DestinationRefused | SlackRefused | ChannelNotReady | AlimTalkRefused
    ):
        return False
    from notifications.solapi import SolapiRefused

    if isinstance(error, SolapiRefused):
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


# --- The channel registry ------------------------------------------------------------------
#
# The relay (notifications.services) claims a row, hands it to the adapter of its
# channel and records the outcome; the adapter only speaks to the provider. What the
# relay needs to know of each channel:
#
# * ``route(row)``: how this attempt leaves (KakaoTalk: AlimTalk, or its SMS fallback);
# * ``circuit_key(way)``: the circuit breaker the channel shares (None: no breaker);
# * ``probe(way)``: connect without sending, for a circuit that is open;
# * ``send(outgoing)``: hand the message over; return the provider's message id ('' if
#   none); raise on failure (see :func:`is_channel_failure` for which failures count
#   against the circuit);
# * ``resend_when_lost``: a row left ``sending`` by a lost worker is posted again (the
#   team-chat webhook, which carries an idempotency key) or becomes ``uncertain`` (all
#   others: the provider may have it, and a person decides);
# * ``reports``: the provider reports delivery later (polled, see
#   :func:`notifications.services.delivery_reports_poll`).


class ChannelNotReady(Exception):
    """The organization or the person no longer has what the channel needs (a key, an address)."""


class AlimTalkRefused(Exception):
    """The AlimTalk itself was refused (template, not a KakaoTalk user, ...): fall back to SMS once."""


@dataclass
class Way:
    """What a relay batch knows about the ways out of one organization."""

    organization: object
    settings: object
    credentials: object | None
    mail_timeout: float
    profiles: dict = field(default_factory=dict)  # email -> ChannelProfile, loaded on demand


@dataclass
class Outgoing:
    row: object
    way: Way
    route: str
    mail_connection: object = None
    unsubscribe_url: str = ""
    profile: object | None = None


class Adapter:
    channel = ""
    resend_when_lost = False
    reports = False

    def route(self, row) -> str:
        return self.channel

    def circuit_key(self, way: Way) -> str | None:
        return None

    def probe(self, way: Way) -> None:
        return None

    def send(self, outgoing: Outgoing) -> str:
        raise NotImplementedError


class EmailAdapter(Adapter):
    channel = "email"

    def circuit_key(self, way: Way) -> str | None:
        return email_channel_key()

    def probe(self, way: Way) -> None:
        probe_email(way.mail_timeout)

    def send(self, outgoing: Outgoing) -> str:
        send_email(
            notification=outgoing.row,
            organization_name=outgoing.way.organization.name,
            unsubscribe_url=outgoing.unsubscribe_url,
            connection=outgoing.mail_connection,
        )
        return ""


class TeamChatAdapter(Adapter):
    """The organization's one team-chat webhook (Slack, Mattermost, Teams, ...)."""

    channel = "webhook"
    resend_when_lost = True

    def circuit_key(self, way: Way) -> str | None:
        return webhook_channel_key(way.settings.webhook_url) if way.settings.webhook_url else None

    def probe(self, way: Way) -> None:
        probe_webhook(way.settings.webhook_url)

    def send(self, outgoing: Outgoing) -> str:
        row = outgoing.row
        post_webhook(
            url=outgoing.way.settings.webhook_url,
            payload=dict(row.payload or {}, notification_id=row.pk),
            idempotency_key=f"notification-{row.organization_id}-{row.pk}",
        )
        return ""


class KakaoAdapter(Adapter):
    """KakaoTalk AlimTalk through Solapi; once refused, the same text as an SMS (its own attempt)."""

    channel = "kakao"
    reports = True

    def route(self, row) -> str:
        return "sms" if (row.payload or {}).get("fallback") == "sms" else "alimtalk"

    def client(self, way: Way):
        from notifications.solapi import SolapiClient

        credentials = way.credentials
        if credentials is None or not credentials.kakao_ready:
            raise ChannelNotReady("KakaoTalk is not set up for the organization (Solapi key, channel, sender).")
        return SolapiClient(api_key=credentials.solapi_api_key, api_secret=credentials.solapi_api_secret)

    def circuit_key(self, way: Way) -> str | None:
        from notifications.solapi import circuit_key

        return circuit_key() if way.credentials is not None and way.credentials.kakao_ready else None

    def probe(self, way: Way) -> None:
        self.client(way).probe()

    def send(self, outgoing: Outgoing) -> str:
        from notifications.solapi import SolapiRefused

        row, way = outgoing.row, outgoing.way
        payload = row.payload or {}
        client = self.client(way)
        if outgoing.route == "sms":
            return client.send_sms(to=payload["to"], sender=way.credentials.sms_sender, text=row.body_text)
        try:
            return client.send_alimtalk(
                to=payload["to"],
                sender=way.credentials.sms_sender,
                pf_id=way.credentials.kakao_pf_id,
                template_id=payload["template_id"],
                variables=payload.get("variables") or {},
                text=row.body_text,
            )
        except SolapiRefused as error:
            if error.about_the_account:
                raise
            raise AlimTalkRefused(str(error)) from error


SLACK_API_BASE_URL = "https://slack.com/api"


class SlackRefused(Exception):
    """Slack answered ``ok: false`` (e.g. ``channel_not_found``, ``invalid_auth``)."""


class SlackAdapter(Adapter):
    """``chat.postMessage`` with the organization's bot token, to the person's member id (a DM)."""

    channel = "slack"

    def base_url(self) -> str:
        return (getattr(settings, "SLACK_API_BASE_URL", "") or SLACK_API_BASE_URL).rstrip("/")

    def circuit_key(self, way: Way) -> str | None:
        if way.credentials is None or not way.credentials.slack_ready:
            return None
        return webhook_channel_key(self.base_url() + "/chat.postMessage").replace("webhook:", "slack:", 1)

    def probe(self, way: Way) -> None:
        outbound.probe(self.base_url() + "/chat.postMessage")

    def send(self, outgoing: Outgoing) -> str:
        import json

        row, way = outgoing.row, outgoing.way
        if way.credentials is None or not way.credentials.slack_ready:
            raise ChannelNotReady("Slack is not set up for the organization (bot token).")
        member = (outgoing.profile.slack_member_id if outgoing.profile else "") or ""
        if not member:
            raise ChannelNotReady("The person has no Slack member id any more.")
        payload = row.payload or {}
        response = outbound.post_json(
            self.base_url() + "/chat.postMessage",
            {"channel": member, "text": payload.get("text") or row.body_text, "unfurl_links": False},
            {"Authorization": f"Bearer {way.credentials.slack_bot_token}"},
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            body_limit=4000,
        )
        if response.status >= 500 or response.status == 429:
            raise WebhookUnavailable(f"HTTP {response.status}")
        if not response.ok:
            raise WebhookRefused(f"HTTP {response.status}")
        try:
            answer = json.loads(response.body or "{}")
        except ValueError:
            answer = {}
        if not answer.get("ok"):
            raise SlackRefused(str(answer.get("error") or "not ok"))
        return str(answer.get("ts") or "")


class TeamsAdapter(Adapter):
    """A Microsoft Teams incoming webhook (Workflows) of the person: an Adaptive Card."""

    channel = "teams"

    def send(self, outgoing: Outgoing) -> str:
        row = outgoing.row
        url = (outgoing.profile.teams_webhook_url if outgoing.profile else "") or ""
        if not url:
            raise ChannelNotReady("The person has no Teams webhook URL any more.")
        payload = row.payload or {}
        post_webhook(
            url=url, payload=teams_card(payload, row), idempotency_key=f"notification-{row.organization_id}-{row.pk}"
        )
        return ""


def teams_card(payload: dict, row) -> dict:
    """The message as the Adaptive Card that Teams' incoming webhooks (Workflows) post."""
    body = [
        {"type": "TextBlock", "text": row.subject_line, "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": payload.get("plain") or row.body_text, "wrap": True},
    ]
    actions = []
    if payload.get("link"):
        actions.append(
            {"type": "Action.OpenUrl", "title": payload.get("action_label") or row.subject_line, "url": payload["link"]}
        )
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


ADAPTERS: dict[str, Adapter] = {
    adapter.channel: adapter
    for adapter in (EmailAdapter(), TeamChatAdapter(), KakaoAdapter(), SlackAdapter(), TeamsAdapter())
}


def adapter_for(channel: str) -> Adapter:
    return ADAPTERS[channel]
