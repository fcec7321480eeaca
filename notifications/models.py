"""Reminders: what is sent, when, and exactly once.

* :class:`NotificationSettings`: one per organization: when reminders go out (local send
  hour, quiet hours, working days, public holidays), which kinds are on, lead times, the
  help-request response target and the chat webhook.
* :class:`Notification`: the outbox. One row per message to one recipient, written
  *before* anything is sent. Its unique key (organization, kind, subject, slot, channel,
  recipient) makes planning idempotent: planning the same slot twice creates nothing.
* :class:`DeliveryAttempt`: the log of every attempt to send a row, written (and
  committed) before the provider is spoken to, finished when its outcome is known.
* :class:`ChannelCircuit`: the health of one way out (an SMTP server, a webhook host),
  shared by every worker: the circuit breaker that stops claiming rows during an outage.
* :class:`Unsubscribe`: a person who said "not this kind of message, thank you".
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantModel
from notifications.crypto import EncryptedTextField
from notifications.schedule import hour_is_quiet


class Kind(models.TextChoices):
    """What a reminder is about. The value is stored, the label shown to people."""

    MILESTONE_UPCOMING = "milestone_upcoming", _("Milestone coming up")
    MILESTONE_DUE_TODAY = "milestone_due_today", _("Milestone due today")
    MILESTONE_OVERDUE = "milestone_overdue", _("Milestone overdue")
    ASSESSMENT_OPENED = "assessment_opened", _("Assessment window opened")
    ASSESSMENT_CLOSING = "assessment_closing", _("Assessment window closing soon")
    HELP_REQUEST_UNANSWERED = "help_request_unanswered", _("Help request unanswered (to mentors)")
    HELP_REQUEST_ESCALATED = "help_request_escalated", _("Help request still unanswered (to program managers)")
    PARTICIPANT_SILENT = "participant_silent", _("Check-in request")
    GOAL_CHECKIN_DUE = "goal_checkin_due", _("Development goal check-in due")
    DIGEST_PM = "digest_pm", _("Weekly digest for program managers")
    DIGEST_MENTOR = "digest_mentor", _("Weekly digest for mentors")
    WELCOME = "welcome", _("Welcome with the participant's link")
    HELP_REQUEST_NEW = "help_request_new", _("New help request (to mentors)")
    HELP_REQUEST_REPLY = "help_request_reply", _("Answer to a help request (to the participant)")
    SURVEY_INVITATION = "survey_invitation", _("Survey invitation")
    SURVEY_REMINDER = "survey_reminder", _("Survey closing soon (to those who have not answered)")
    LOST_LINK = "lost_link", _("A new link on request (lost link)")
    OFFICE_HOURS_BOOKED = "office_hours_booked", _("Office hours booked (calendar invitation)")
    OFFICE_HOURS_CHANGED = "office_hours_changed", _("Office hours changed (calendar update)")
    OFFICE_HOURS_CANCELLED = "office_hours_cancelled", _("Office hours cancelled (calendar cancellation)")
    OFFICE_HOURS_REMINDER = "office_hours_reminder", _("Office hours coming up")


class Channel(models.TextChoices):
    """A way out. ``webhook`` is the organization's team chat; the others reach one person."""

    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Chat webhook")
    KAKAO = "kakao", _("KakaoTalk (text message if it fails)")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")


# Which channels each audience may choose (a participant has a phone; staff have chat accounts).
PARTICIPANT_CHANNELS = [Channel.EMAIL.value, Channel.KAKAO.value]
STAFF_CHANNELS = [Channel.EMAIL.value, Channel.SLACK.value, Channel.TEAMS.value]


class Route(models.TextChoices):
    """How one attempt left: the channel, or for KakaoTalk which of its two messages."""

    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Chat webhook")
    ALIMTALK = "alimtalk", _("KakaoTalk AlimTalk")
    SMS = "sms", _("Text message (SMS fallback)")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")


ISO_WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]

HOUR_VALIDATORS = [MinValueValidator(0), MaxValueValidator(23)]

# Kinds whose messages speak to the program team; a chat channel is where they live.
DEFAULT_WEBHOOK_KINDS = [
    Kind.HELP_REQUEST_ESCALATED.value,
    Kind.MILESTONE_OVERDUE.value,
    Kind.DIGEST_PM.value,
    Kind.HELP_REQUEST_NEW.value,
]


def default_working_days() -> list[int]:
    return [1, 2, 3, 4, 5]


def default_enabled_kinds() -> list[str]:
    return [kind.value for kind in Kind]


def default_webhook_kinds() -> list[str]:
    return list(DEFAULT_WEBHOOK_KINDS)


def default_channels() -> list[str]:
    return [Channel.EMAIL.value]


class NotificationSettings(TenantModel):
    """When and what an organization's reminders send. One row per organization.

    Times are local to the organization's time zone; the code converts them with
    ``zoneinfo`` (beat runs in UTC), so 09:00 stays 09:00 across daylight saving.
    Organizations without a row use the defaults (see
    :func:`notifications.selectors.notification_settings_for`).
    """

    send_hour = models.PositiveSmallIntegerField(
        _("send hour"), default=9, validators=HOUR_VALIDATORS, help_text=_("Local hour (0-23) of the daily reminders.")
    )
    quiet_hours_start = models.PositiveSmallIntegerField(
        _("quiet hours start"),
        default=21,
        validators=HOUR_VALIDATORS,
        help_text=_("Local hour from which nothing is sent. The same start and end means no quiet hours."),
    )
    quiet_hours_end = models.PositiveSmallIntegerField(
        _("quiet hours end"), default=8, validators=HOUR_VALIDATORS, help_text=_("Local hour when sending resumes.")
    )
    working_days = models.JSONField(
        _("working days"), default=default_working_days, help_text=_("Days of the week on which reminders are sent.")
    )
    skip_public_holidays = models.BooleanField(
        _("skip public holidays"),
        default=True,
        help_text=_("Send nothing on the public holidays of the organization's country."),
    )
    enabled_kinds = models.JSONField(_("kinds switched on"), default=default_enabled_kinds, blank=True)
    milestone_lead_days = models.PositiveSmallIntegerField(
        _("milestone reminder lead (days)"),
        default=3,
        validators=[MaxValueValidator(60)],
        help_text=_("Remind participants this many days before a milestone is due (0: no advance reminder)."),
    )
    assessment_closing_lead_days = models.PositiveSmallIntegerField(
        _("assessment closing reminder lead (days)"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("Remind those who have not assessed yet this many days before a window closes."),
    )
    survey_reminder_lead_days = models.PositiveSmallIntegerField(
        _("survey reminder lead (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("Remind those who have not answered a survey this many days before it closes."),
    )
    help_request_response_hours = models.PositiveSmallIntegerField(
        _("help request response target (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("A help request with no answer after this long is sent to its mentors again."),
    )
    help_request_escalation_hours = models.PositiveSmallIntegerField(
        _("escalate to program managers after (hours)"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("A help request with no answer after this long goes to the program managers."),
    )
    digest_weekday = models.PositiveSmallIntegerField(
        _("weekly digest day"),
        choices=ISO_WEEKDAYS,
        default=1,
        help_text=_("The digest goes out on this day's send hour."),
    )
    webhook_url = models.URLField(
        _("chat webhook URL"),
        blank=True,
        max_length=500,
        help_text=_("An incoming-webhook URL of your team chat. Messages are posted as JSON."),
    )
    webhook_kinds = models.JSONField(_("kinds posted to the webhook"), default=default_webhook_kinds, blank=True)
    participant_channels = models.JSONField(
        _("participants' channels by default"),
        default=default_channels,
        blank=True,
        help_text=_("Where participants get their messages until they choose for themselves."),
    )
    staff_channels = models.JSONField(
        _("mentors' and program managers' channels by default"),
        default=default_channels,
        blank=True,
        help_text=_("Where mentors and program managers get their messages until they choose for themselves."),
    )

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="notificationsettings_one_per_org"),
        ]

    def __str__(self) -> str:
        return str(_("Reminder settings"))

    def kind_enabled(self, kind: str) -> bool:
        return kind in (self.enabled_kinds or [])

    def clean(self) -> None:
        from notifications.channels import webhook_url_problem

        errors: dict[str, str] = {}
        days = self.working_days
        if not isinstance(days, list) or not days or not all(isinstance(d, int) and 1 <= d <= 7 for d in days):
            errors["working_days"] = _("Choose at least one working day.")
        else:
            self.working_days = sorted(set(days))
        valid_kinds = set(Kind.values)
        for name in ("enabled_kinds", "webhook_kinds"):
            value = getattr(self, name)
            if not isinstance(value, list) or not set(value) <= valid_kinds:
                errors[name] = _("Unknown kind of reminder.")
            else:
                setattr(self, name, [kind for kind in Kind.values if kind in value])
        if None not in (self.send_hour, self.quiet_hours_start, self.quiet_hours_end) and hour_is_quiet(
            self.send_hour, self.quiet_hours_start, self.quiet_hours_end
        ):
            errors["send_hour"] = _("The send hour falls in the quiet hours; nothing would ever be sent.")
        if (
            self.help_request_escalation_hours is not None
            and self.help_request_response_hours is not None
            and self.help_request_escalation_hours <= self.help_request_response_hours
        ):
            errors["help_request_escalation_hours"] = _(
                "Escalate to program managers only after the mentors' response target has passed."
            )
        for name, allowed in (("participant_channels", PARTICIPANT_CHANNELS), ("staff_channels", STAFF_CHANNELS)):
            value = getattr(self, name)
            if not isinstance(value, list) or not value or not set(value) <= set(allowed):
                errors[name] = _("Choose at least one of the channels offered.")
            else:
                setattr(self, name, [channel for channel in allowed if channel in value])
        if self.webhook_url:
            problem = webhook_url_problem(self.webhook_url)
            if problem:
                errors["webhook_url"] = problem
        if errors:
            raise ValidationError(errors)


class Notification(TenantModel):
    """One message to one recipient: the outbox row.

    Written before anything is sent, with a unique key, so that planning twice, two
    beats or a retried task never make a second row. Its life (see
    :func:`notifications.services.notification_relay`)::

        pending --claim (committed)--> sending --provider accepted--> sent
                                         |-- provider refused --> pending (retry) / failed
                                         '-- worker lost --> uncertain (email) / pending (webhook)

    A row is ``sending`` from the moment an attempt is committed until its outcome is
    recorded. One found ``sending`` after its lease (the worker died, or lost the
    database after the provider accepted) is *uncertain* for email: it is not sent
    again unless a person decides so (outbox action "Resend"). A webhook is resent
    with the same ``webhook-id``; receivers drop the repeat.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        UNCERTAIN = "uncertain", _("Outcome unknown")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Not sent")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    subject_key = models.CharField(
        _("about"), max_length=80, help_text=_("What the message is about, e.g. milestone:12:enrollment:5.")
    )
    slot = models.CharField(
        _("time slot"), max_length=40, help_text=_("The occasion, e.g. due:2026-03-05 or week:2026-W10.")
    )
    recipient = models.CharField(_("recipient"), max_length=254, help_text=_("Email address, or 'webhook'."))
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ko")
    run = models.ForeignKey(
        "programs.Run", verbose_name=_("run"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("why"), blank=True)
    subject_line = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    payload = models.JSONField(_("webhook payload"), default=dict, blank=True)
    calendar = models.TextField(
        _("calendar invitation"),
        blank=True,
        help_text=_(
            "An iCalendar (.ics) text sent with the email, written with the row so every attempt sends the same."
        ),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    scheduled_for = models.DateTimeField(_("scheduled for"))
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempt_id = models.UUIDField(_("current attempt"), null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("outbox")
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "subject_key", "slot", "channel", "recipient"],
                name="notification_once_per_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "next_attempt_at"], name="notification_org_due"),
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient}"


class DeliveryAttempt(TenantModel):
    """One attempt to send a notification.

    Committed before the provider is spoken to (``succeeded`` empty), finished when the
    outcome is known. One that stays unfinished means the worker was lost mid-send.
    """

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    attempt_id = models.UUIDField(_("attempt"), null=True, blank=True, editable=False, db_index=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), null=True, help_text=_("Empty: the outcome is not known."))
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    route = models.CharField(_("sent as"), max_length=16, choices=Route.choices, blank=True)
    provider_message_id = models.CharField(_("provider's message id"), max_length=100, blank=True)
    delivery_status = models.CharField(
        _("delivery report"),
        max_length=16,
        choices=[
            ("", _("None")),
            ("pending", _("Waiting")),
            ("delivered", _("Delivered")),
            ("failed", _("Not delivered")),
        ],
        blank=True,
        help_text=_("What the provider later reported about this attempt (KakaoTalk and text messages)."),
    )
    delivery_detail = models.CharField(_("report detail"), max_length=300, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["notification_id", "started_at", "id"]

    def __str__(self) -> str:
        outcome = {True: "ok", False: "failed", None: "unknown"}[self.succeeded]
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {outcome}"


class ChannelCircuit(models.Model):
    """The health of one way out, shared by all workers: a circuit breaker.

    Not tenant data: the key names a server every organization shares (``smtp:host:port``)
    or a webhook host (``webhook:host:port``). After repeated failures the circuit opens:
    relays stop claiming rows for it (their attempts are not spent) and one relay at a
    time probes the server; when the probe succeeds the circuit closes and the waiting
    rows go out. See :mod:`notifications.breaker`.
    """

    class State(models.TextChoices):
        CLOSED = "closed", _("Working")
        OPEN = "open", _("Unreachable")

    key = models.CharField(_("channel"), max_length=300, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.CLOSED)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    opened_at = models.DateTimeField(_("unreachable since"), null=True, blank=True)
    probe_at = models.DateTimeField(_("next probe"), null=True, blank=True)
    probes = models.PositiveIntegerField(_("failed probes"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery channel")
        verbose_name_plural = _("delivery channels")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key} ({self.get_state_display()})"


class Unsubscribe(TenantModel):
    """A person (by email address) who does not want one kind of message from the organization."""

    email = models.EmailField(_("email"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)

    class Meta:
        verbose_name = _("unsubscribe")
        verbose_name_plural = _("unsubscribes")
        ordering = ["email", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email", "kind"], name="unsubscribe_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class ChannelCredentials(TenantModel):
    """An organization's accounts with the providers; secrets encrypted at rest.

    KakaoTalk AlimTalk and its SMS fallback go through Solapi (an API key and secret,
    the pfId of the organization's KakaoTalk business channel, a registered sender
    number); Slack through a bot token (``chat.postMessage`` to each person's member
    id). Secrets are :class:`~notifications.crypto.EncryptedTextField`: the column holds
    a Fernet token, and no form or API shows them back after saving.
    """

    solapi_api_key = EncryptedTextField(_("Solapi API key"), blank=True)
    solapi_api_secret = EncryptedTextField(_("Solapi API secret"), blank=True)
    kakao_pf_id = models.CharField(
        _("KakaoTalk channel id (pfId)"),
        max_length=64,
        blank=True,
        help_text=_("The id Solapi shows for your KakaoTalk business channel, e.g. KA01PF..."),
    )
    sms_sender = models.CharField(
        _("sender number"),
        max_length=20,
        blank=True,
        help_text=_("The number registered with Solapi that text messages come from, e.g. 0212345678."),
    )
    slack_bot_token = EncryptedTextField(
        _("Slack bot token"), blank=True, help_text=_("A bot token (xoxb-...) with the chat:write scope.")
    )

    class Meta:
        verbose_name = _("channel credentials")
        verbose_name_plural = _("channel credentials")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="channelcredentials_one_per_org"),
        ]

    def __str__(self) -> str:
        return str(_("Channel credentials"))

    @property
    def kakao_ready(self) -> bool:
        return bool(self.solapi_api_key and self.solapi_api_secret and self.kakao_pf_id and self.sms_sender)

    @property
    def slack_ready(self) -> bool:
        return bool(self.slack_bot_token)


class AlimTalkTemplate(TenantModel):
    """A KakaoTalk AlimTalk template as Kakao approved it, for one kind of message and language.

    AlimTalk only delivers text that matches an approved template exactly, with its
    ``#{variables}`` filled in; the template id (``templateId``) is the one Solapi shows
    after approval. The variables a template may use are :data:`ALIMTALK_VARIABLES`.
    """

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ko")
    template_id = models.CharField(
        _("approved template id"), max_length=64, help_text=_("The template id Solapi shows once Kakao approved it.")
    )
    content = models.TextField(
        _("approved text"),
        help_text=_("The text exactly as approved, with variables such as #{name}, #{subject}, #{link}."),
    )
    variables = models.JSONField(_("variables"), default=list, blank=True, editable=False)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("KakaoTalk template")
        verbose_name_plural = _("KakaoTalk templates")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "language"], name="alimtalktemplate_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language}) · {self.template_id}"

    def clean(self) -> None:
        names = template_variables(self.content or "")
        unknown = [name for name in names if name not in ALIMTALK_VARIABLES]
        if unknown:
            raise ValidationError(
                {
                    "content": _("Unknown variables: %(names)s. Use only: %(known)s.")
                    % {
                        "names": ", ".join(f"#{{{name}}}" for name in unknown),
                        "known": ", ".join(f"#{{{name}}}" for name in ALIMTALK_VARIABLES),
                    }
                }
            )
        self.variables = names


class ChannelProfile(TenantModel):
    """How one person (by email) wants to be reached: channels per kind, and their chat addresses.

    ``choices`` maps a kind to the channels chosen for it; a kind that is not there
    uses the organization's defaults (:class:`NotificationSettings`). A participant's
    phone number is their ``programs.Participant.phone``.
    """

    email = models.EmailField(_("email"))
    choices = models.JSONField(_("channels per kind"), default=dict, blank=True)
    slack_member_id = models.CharField(
        _("Slack member id"),
        max_length=32,
        blank=True,
        help_text=_("In Slack: your profile, ⋮, Copy member ID (U...)."),
    )
    teams_webhook_url = EncryptedTextField(
        _("Microsoft Teams webhook URL"),
        blank=True,
        help_text=_("An incoming-webhook (Workflows) URL of a Teams chat or channel that reaches you."),
    )

    class Meta:
        verbose_name = _("channel choice")
        verbose_name_plural = _("channel choices")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], name="channelprofile_once_per_person"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from notifications.channels import webhook_url_problem

        errors: dict[str, str] = {}
        if not isinstance(self.choices, dict) or not all(
            kind in Kind.values and isinstance(value, list) and set(value) <= set(Channel.values)
            for kind, value in self.choices.items()
        ):
            errors["choices"] = _("Unknown kind of reminder or channel.")
        if self.slack_member_id and not re.fullmatch(r"[UW][A-Z0-9]{4,31}", self.slack_member_id):
            errors["slack_member_id"] = _("A Slack member id starts with U or W, e.g. U012AB3CD.")
        if self.teams_webhook_url:
            problem = webhook_url_problem(self.teams_webhook_url)
            if problem:
                errors["teams_webhook_url"] = problem
        if errors:
            raise ValidationError(errors)


# What an AlimTalk template may say, filled in from the message (notifications.content.alimtalk_variables).
ALIMTALK_VARIABLES = ["name", "subject", "organization", "link", "text"]


def template_variables(content: str) -> list[str]:
    """The names of ``#{name}`` variables in a template's text, in order, each once."""
    found: list[str] = []
    for name in re.findall(r"#\{([^{}]+)\}", content):
        if name not in found:
            found.append(name)
    return found
