"""Writes of the notifications app: planning the outbox, relaying it, unsubscribing.

Exactly once, nothing lost:

1. :func:`notifications_plan` writes one outbox row per message *before* anything is
   sent. Rows have a unique key (organization, kind, subject, slot, channel,
   recipient) and are inserted with ``ON CONFLICT DO NOTHING``, so planning the same
   slot twice, from two beats or two workers, creates nothing new.
2. :func:`notification_relay` never sends a message twice on its own. Per row:

   a. *claim*: lock the next due row (``SELECT ... FOR UPDATE SKIP LOCKED``; other
      relays skip it), mark it ``sending`` with a fresh attempt id, the worker and
      the time, write the attempt, and **commit** before the provider is spoken to;
   b. *send* with no transaction open (no row lock or idle transaction spans the
      SMTP exchange);
   c. *record* the outcome in a fresh transaction, matched by attempt id, retried
      with reconnects when the database connection was lost meanwhile.

   A row found ``sending`` after its lease (``NOTIFICATIONS_SENDING_LEASE_SECONDS``)
   belongs to a lost worker: an email becomes **uncertain** (shown in the outbox,
   resent only by a person), a webhook is posted again with the same ``webhook-id``.
   A failure is retried with back-off (kept below the broker's visibility timeout),
   then marked failed. Channel-level failures feed a circuit breaker
   (:mod:`notifications.breaker`) that stops claiming during an outage, so an outage
   spends no row's retries. Nothing goes out in quiet hours, however it was planned.

   The relay task therefore does not run in one transaction like other tasks
   (:class:`core.rls.TenantTask`); each transaction carries the organization's
   row-level-security context itself.

   SQLite (the embedded default) has no ``SKIP LOCKED``: the relay opens each
   claim with a write, which takes SQLite's database-wide write lock, so two relays
   take turns instead of skipping each other.

See docs/operations.md for the guarantee as tested.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, transaction
from django.db import connection as db_connection
from django.db.models import F, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import SurveyResponse, ValueSurvey
from assessments.services import respondent_key
from core import rls
from core.db import insert_columns
from core.models import Organization
from core.tenancy import require_same_organization
from mentors.models import Mentor
from notifications import breaker, channels, content, links, selectors
from notifications.models import (
    AlimTalkTemplate,
    Channel,
    ChannelCredentials,
    ChannelProfile,
    DeliveryAttempt,
    Kind,
    Notification,
    NotificationSettings,
    Unsubscribe,
)
from notifications.planning import Planned, Planner
from notifications.schedule import SendingRules
from programs import links as participant_links
from programs.models import Enrollment, HelpRequest, MilestoneProgress

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
# (NOTIFICATIONS_RETRY_DELAYS_SECONDS overrides them: the fault tests use seconds.)
RETRY_DELAYS_SECONDS = (60, 300, 900, 1800)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
RELAY_BATCH_SIZE = 50
MAIL_TIMEOUT_SECONDS = 30  # unless EMAIL_TIMEOUT says otherwise
# Waits before recording an outcome again after the database connection was lost.
RECORD_RETRY_DELAYS_SECONDS = (0.1, 0.3, 1, 2, 4, 8)


def broker_visibility_timeout() -> int:
    options = getattr(django_settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    return int(options.get("visibility_timeout", 3600))


def retry_delay_seconds(failed_attempts: int) -> int:
    """Back-off after a failure, capped at half the broker's visibility timeout.

    The relay wakes itself up with a countdown of this length; Redis hands a task
    that waits longer than its visibility timeout to a second worker.
    """
    delays = tuple(getattr(django_settings, "NOTIFICATIONS_RETRY_DELAYS_SECONDS", None) or RETRY_DELAYS_SECONDS)
    index = max(1, min(failed_attempts, len(delays))) - 1
    return min(int(delays[index]), broker_visibility_timeout() // 2)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Settings ---------------------------------------------------------------------------


@transaction.atomic
def notification_settings_update(*, organization: Organization, **changes) -> NotificationSettings:
    """Create or change the organization's reminder settings (validated)."""
    current = NotificationSettings.objects.for_organization(organization).select_for_update().first()
    current = current or NotificationSettings(organization=organization)
    for name, value in changes.items():
        setattr(current, name, value)
    current.full_clean()
    current.save()
    return current


# --- Planning ---------------------------------------------------------------------------


class _Rendering:
    """Renders the outbox rows of one planning call of one organization.

    Work shared by many rows is done once per call: the email templates once per
    distinct message apart from the recipient's parts (:class:`content.EmailRenderer`),
    the unsubscribe token once per (address, kind, language) (it is deterministic), the
    reason once per rule occasion. Nothing is kept beyond the call; every key holds
    values of this organization only.
    """

    def __init__(self, organization: Organization):
        self.organization = organization
        self.emails = content.EmailRenderer()
        self._tokens: dict[tuple[str, str, str], str] = {}
        self._reasons: dict[object, str] = {}
        self._kind_labels: dict[tuple[str, str], str] = {}
        self._unsubscribed_why = ""

    def _unsubscribe_url(self, planned: Planned) -> str:
        key = (planned.address, planned.kind, planned.language)
        url = self._tokens.get(key)
        if url is None:
            token = links.unsubscribe_token(
                organization_id=self.organization.id,
                email=planned.address,
                kind=planned.kind,
                language=planned.language,
            )
            url = self._tokens[key] = links.unsubscribe_link(token)
        return url

    def _kind_label(self, kind: str) -> str:
        key = (kind, translation.get_language())
        label = self._kind_labels.get(key)
        if label is None:
            label = self._kind_labels[key] = str(Kind(kind).label)
        return label

    def _reason(self, planned: Planned) -> str:
        # Rules share one reason callable among the rows of an occasion (a milestone and day);
        # the dict keeps each callable alive, so no key is ever another's reused id.
        try:
            reason = self._reasons.get(planned.reason)
        except TypeError:  # not hashable
            reason = None
        if reason is None:
            with translation.override(self.organization.language):
                reason = planned.reason()
            with contextlib.suppress(TypeError):
                self._reasons[planned.reason] = reason
        return reason

    def row(self, planned: Planned) -> dict:
        """The outbox row of ``planned``: field attnames and values."""
        organization = self.organization
        with translation.override(planned.language):
            message = planned.build()
            if planned.channel == Channel.EMAIL:
                subject, text, html = self.emails.render(
                    message=message,
                    organization_name=organization.name,
                    kind_label=self._kind_label(planned.kind),
                    unsubscribe_url=self._unsubscribe_url(planned),
                )
                payload: dict = {}
            elif planned.channel == Channel.KAKAO:
                text, variables = content.alimtalk_render(
                    template_text=planned.template.content,
                    message=message,
                    organization_name=organization.name,
                    name=planned.recipient_name,
                )
                payload = {
                    "to": planned.destination,
                    "template_id": planned.template.template_id,
                    "variables": variables,
                }
                subject, html = message.subject, ""
            else:
                payload = content.webhook_payload(
                    message=message, kind=planned.kind, organization_slug=organization.slug, notification_id=None
                )
                if planned.channel in (Channel.SLACK, Channel.TEAMS):
                    payload["plain"] = content.plain_text(message)
                    payload["action_label"] = message.action_label
                subject, text, html = message.subject, payload["text"], ""
        row = {
            "organization_id": organization.id,
            "kind": planned.kind,
            "channel": planned.channel,
            "subject_key": planned.subject_key,
            "slot": planned.slot,
            "recipient": planned.address,
            "recipient_name": planned.recipient_name[:200],
            "language": planned.language,
            "run_id": planned.run_id,
            "reason": self._reason(planned),
            "subject_line": subject[:300],
            "body_text": text,
            "body_html": html,
            "payload": payload,
            "calendar": planned.calendar if planned.channel == Channel.EMAIL else "",
            "scheduled_for": planned.scheduled_for,
            "next_attempt_at": planned.scheduled_for,
        }
        if planned.unsubscribed:
            if not self._unsubscribed_why:
                with translation.override(organization.language):
                    self._unsubscribed_why = _("Not sent: the recipient unsubscribed from this kind of message.")
            row["status"] = Notification.Status.CANCELLED
            row["last_error"] = self._unsubscribed_why
        return row


#: Rows per INSERT of planning: fewer, wider statements (26 columns: 26,000 parameters, below
#: PostgreSQL's 65,535).
PLAN_INSERT_BATCH = 1000


_REQUIRED = object()


def _insert_new_rows(organization: Organization, rows: list[dict]) -> int:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` of outbox rows (field attnames → values); how many were new.

    What ``TenantQuerySet.insert_new`` does, without a model instance per row and, on
    PostgreSQL, with the values bound by the server (:func:`core.db.insert_columns`):
    Django's client-side binding quotes every rendered body in Python, which cost as much
    as rendering. Defaults and timestamps are filled in as the model would; the rows are
    the organization's own (planning made them for it). Other databases take ``insert_new``.
    """
    if not rows:
        return 0
    if any(row["organization_id"] != organization.id for row in rows):
        raise ValueError("outbox rows of another organization")
    if db_connection.vendor != "postgresql":
        objects = [Notification(**row) for row in rows]
        inserted = Notification.objects.for_organization(organization).insert_new(objects, batch_size=PLAN_INSERT_BATCH)
        return len(inserted)
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    columns = []
    for field in fields:
        name = field.attname
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default = now
        elif field.has_default() or field.null or field.blank:
            default = field.get_default()  # the default, else None or "" as the model gives
        else:
            default = _REQUIRED
        values = [row.get(name, default) for row in rows]
        if default is _REQUIRED and any(value is _REQUIRED for value in values):
            raise ValueError(f"outbox rows need {name}")
        columns.append(values)
    keys = insert_columns(Notification, fields, columns, batch_size=PLAN_INSERT_BATCH, ignore_conflicts=True)
    return len(keys)


def _write_new(organization: Organization, planned: list[Planned], existing: set) -> int:
    """Render the planned messages whose key is not in the outbox and insert them; return how many were new.

    The insert ignores conflicts with a concurrent writer (which then counts its own).
    """
    rendering = _Rendering(organization)
    with links.shared_participant_links():
        new_rows = [rendering.row(p) for p in planned if p.key not in existing]
    return _insert_new_rows(organization, new_rows)


@transaction.atomic
def notifications_plan(
    *, organization: Organization, now: datetime.datetime | None = None, respect_send_window: bool = True
) -> int:
    """Write the outbox rows that are due by ``now``; return how many were new.

    Idempotent: rows whose key exists are neither rendered nor inserted again, and
    the insert ignores conflicts with a concurrent planner (which then counts its own).
    """
    now = now or timezone.now()
    settings = selectors.notification_settings_for(organization=organization)
    rules = SendingRules.for_organization(organization, settings)
    data = selectors.planning_data(organization=organization, today=rules.local_date(now), settings=settings)
    planned = Planner(data).due_now(now, respect_send_window=respect_send_window)
    existing = selectors.existing_keys(
        organization=organization,
        slots={p.slot for p in planned},
        subject_keys={p.subject_key for p in planned},
    )
    # What this planner itself inserted: a concurrent planner's rows are its own to report.
    created = _write_new(organization, planned, existing)
    if not created:
        return 0
    logger.info("planned %s reminders for organization %s", created, organization.id)
    enqueue_relay(organization_id=organization.id)
    return created


def notifications_plan_soon(*, organization: Organization) -> None:
    """Plan the organization's reminders right after the current transaction commits.

    For messages of a moment (a new enrollment, a help request, an answer, a survey that
    opened): the planner is set-based and idempotent, so ringing it only brings forward
    what beat's next run would plan anyway, exactly once. A broker that is down loses
    nothing: beat plans every few minutes.
    """
    from notifications.tasks import plan_organization

    def ring() -> None:
        try:
            plan_organization.apply_async(
                kwargs={"organization_id": organization.id},
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
            )
        except Exception:  # the broker is down: beat will plan
            logger.warning("could not enqueue planning of organization %s", organization.id, exc_info=True)

    rls.after_commit(ring)


LOST_LINK_SLOT_MINUTES = 15  # one new link per enrollment and quarter of an hour, however often it is asked


@transaction.atomic
def lost_link_send(*, organization: Organization, email: str, now: datetime.datetime | None = None) -> int:
    """Mail a fresh home link to every active enrollment of ``email`` in the organization.

    Returns how many messages were queued (0 when the address is unknown: the caller
    must answer the same either way). Written to the outbox like every message, in the
    participant's language; quiet hours and unsubscribes apply as for the other kinds.
    """
    now = now or timezone.now()
    settings = selectors.notification_settings_for(organization=organization)
    if not settings.kind_enabled(Kind.LOST_LINK):
        return 0
    rules = SendingRules.for_organization(organization, settings)
    local = rules.local(now)
    slot = f"asked:{local:%Y-%m-%dT%H}:{local.minute // LOST_LINK_SLOT_MINUTES}"
    unsubscribed = {kind for _email, kind in selectors.unsubscribes_of(organization=organization, email=email)}
    valid_days = participant_links.default_valid_days()
    planned = []
    for enrollment, person in selectors.active_enrollments_of_email(organization=organization, email=email):

        def build(enrollment=enrollment, person=person) -> content.Message:
            return content.lost_link(
                name=person.name,
                run=enrollment.run,
                link=links.participant_link(enrollment, "home"),
                valid_days=valid_days,
            )

        planned.append(
            Planned(
                kind=Kind.LOST_LINK,
                channel=Channel.EMAIL,
                subject_key=f"enrollment:{enrollment.id}",
                slot=slot,
                recipient=person,
                run_id=enrollment.run_id,
                scheduled_for=rules.next_allowed_moment(now),
                reason=lambda: _("The participant asked for a new link on the lost-link page."),
                build=build,
                language=person.language,
                unsubscribed=Kind.LOST_LINK.value in unsubscribed,
            )
        )
    existing = selectors.existing_keys(
        organization=organization, slots={slot}, subject_keys={p.subject_key for p in planned}
    )
    created = _write_new(organization, planned, existing)
    if created:
        enqueue_relay(organization_id=organization.id)
    return created


@transaction.atomic
def notifications_queue(*, organization: Organization, planned: list[Planned]) -> int:
    """Write messages of a moment that another app planned (office hours); return how many were new.

    The same exactly-once rule as planning: a row whose unique key (kind, subject, slot,
    channel, recipient) exists is neither rendered nor written again, and a concurrent
    writer's row wins the insert. Rows are relayed like every other (quiet hours,
    unsubscribes, retries).
    """
    existing = selectors.existing_keys(
        organization=organization,
        slots={p.slot for p in planned},
        subject_keys={p.subject_key for p in planned},
    )
    created = _write_new(organization, planned, existing)
    if created:
        enqueue_relay(organization_id=organization.id)
    return created


@transaction.atomic
def notifications_withdraw(*, organization: Organization, subject_key: str, kinds: list[str], why: str) -> int:
    """Cancel the pending rows of ``kinds`` about ``subject_key`` (a cancelled booking's reminders)."""
    return (
        Notification.objects.for_organization(organization)
        .filter(subject_key=subject_key, kind__in=kinds, status=Notification.Status.PENDING)
        .update(status=Notification.Status.CANCELLED, last_error=why, updated_at=timezone.now())
    )


def notifications_preview(
    *, organization: Organization, run=None, now: datetime.datetime | None = None, days: int = 14
) -> list[dict]:
    """What will be sent over the next ``days`` days, and why (read-only).

    Rows already in the outbox as sent, failed or not sent are left out; rows
    waiting there are marked ``queued``.
    """
    now = now or timezone.now()
    settings = selectors.notification_settings_for(organization=organization)
    rules = SendingRules.for_organization(organization, settings)
    data = selectors.planning_data(organization=organization, today=rules.local_date(now), settings=settings)
    planned = Planner(data).preview(now, days=days)
    if run is not None:
        organization_wide = (Kind.DIGEST_PM, Kind.DIGEST_MENTOR)  # the digests cover every run
        planned = [p for p in planned if p.run_id == run.id or (p.run_id is None and p.kind in organization_wide)]
    existing = selectors.existing_keys(
        organization=organization,
        slots={p.slot for p in planned},
        subject_keys={p.subject_key for p in planned},
    )
    rows = []
    for item in planned:
        status = existing.get(item.key)
        if status not in (None, Notification.Status.PENDING):
            continue
        with translation.override(item.language):
            subject = item.build().subject
        rows.append(
            {
                # When the relay will actually send it: not before now, and never in quiet hours.
                "when": rules.local(rules.next_allowed_moment(max(item.scheduled_for, now))),
                "kind": item.kind,
                "kind_label": Kind(item.kind).label,
                "channel": item.channel,
                "recipient": item.address,
                "recipient_name": item.recipient_name,
                "language": item.language,
                "subject": subject,
                "reason": item.reason(),
                "queued": status == Notification.Status.PENDING,
                "unsubscribed": item.unsubscribed,
                "run_id": item.run_id,
            }
        )
    return rows


def ring_relay(*, organization_id: int, countdown: float | None = None, fan_out: bool = False) -> bool:
    """Enqueue one relay of an organization now, retrying the broker briefly; False when it is down.

    ``fan_out``: a doorbell (planning, beat, a starting worker) rather than a relay's own
    follow-up; such a relay rings helpers when it finds a backlog (:func:`relay_helpers_ring`).
    A lost doorbell loses nothing: the rows are in the database and beat relays due
    rows every minute.
    """
    from notifications.tasks import relay_organization

    kwargs: dict = {"organization_id": organization_id}
    if fan_out:
        kwargs["fan_out"] = True
    try:
        relay_organization.apply_async(
            kwargs=kwargs,
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 4, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
        )
    except Exception:  # the broker is down: beat will pick the rows up
        logger.warning("could not enqueue the relay of organization %s", organization_id, exc_info=True)
        return False
    return True


def enqueue_relay(*, organization_id: int, countdown: int | None = None) -> None:
    """Ring the relay's doorbell once the current transaction commits."""
    rls.after_commit(lambda: ring_relay(organization_id=organization_id, countdown=countdown, fan_out=True))


#: Relays of one organization that a doorbell sets going at most when a backlog waits
#: (itself, its follow-up and helpers): every worker process can take one, each claims its
#: own rows (``SKIP LOCKED``). ``NOTIFICATIONS_RELAY_FAN_OUT`` overrides it; 1 relays one batch at a time.
RELAY_FAN_OUT = 4


def relay_fan_out() -> int:
    return max(1, int(getattr(django_settings, "NOTIFICATIONS_RELAY_FAN_OUT", RELAY_FAN_OUT)))


def relay_helpers_ring(*, organization: Organization, limit: int = RELAY_BATCH_SIZE) -> int:
    """Ring extra relays for the backlog left after a doorbell's first batch; return how many.

    The relay that a doorbell started sends one batch and rings its follow-up
    (``more_due``); a backlog of more batches than that gets up to
    :func:`relay_fan_out` relays in all, so that several workers send at once. Helpers
    and follow-ups never ring helpers themselves: one doorbell, a bounded number of
    relays. Exactly once holds as before: each row is claimed by one relay
    (``SELECT ... FOR UPDATE SKIP LOCKED``, committed before it is sent).
    """
    wanted = relay_fan_out() - 1  # beside the follow-up
    if wanted <= 0:
        return 0
    with rls.organization_context(organization.id):
        backlog = _due(organization, timezone.now()).order_by()[: (wanted + 1) * limit].count()
    helpers = min(wanted, -(-backlog // limit) - 1)  # the follow-up takes the first batch
    rung = 0
    for _index in range(helpers):
        rung += ring_relay(organization_id=organization.id)
    return rung


# --- Relaying ---------------------------------------------------------------------------


@dataclass
class RelayResult:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    uncertain: int = 0
    deferred: int = 0
    more_due: bool = False
    retry_in_seconds: float | None = None  # wake up then: a back-off, a probe, a lease running out

    def wake_in(self, seconds: float | None) -> None:
        if seconds is None:
            return
        seconds = max(float(seconds), 1.0)
        self.retry_in_seconds = seconds if self.retry_in_seconds is None else min(self.retry_in_seconds, seconds)


@dataclass(frozen=True)
class _Claim:
    """A row whose attempt is committed (status ``sending``) and may now be handed over."""

    row: Notification
    attempt_id: uuid.UUID
    started: datetime.datetime
    route: str = ""


_SKIPPED = object()  # the claimed row was cancelled instead of sent


def sending_lease() -> datetime.timedelta:
    """How long a row may stay ``sending`` before its worker counts as lost."""
    return datetime.timedelta(seconds=float(getattr(django_settings, "NOTIFICATIONS_SENDING_LEASE_SECONDS", 120)))


def _due(organization: Organization, now: datetime.datetime):
    return Notification.objects.for_organization(organization).filter(
        status=Notification.Status.PENDING, next_attempt_at__lte=now
    )


def _lock_next_due(organization: Organization, *, skip_channels: set[str]) -> Notification | None:
    """Lock and return the next due pending row, or None. Call inside a transaction."""
    due = _due(organization, timezone.now()).exclude(channel__in=skip_channels).order_by("next_attempt_at", "id")
    if db_connection.features.has_select_for_update_skip_locked:
        return due.select_for_update(skip_locked=True, of=("self",)).first()
    # SQLite: begin with a write so that this transaction holds the database write
    # lock before it reads; a concurrent relay waits here and then sees the row claimed.
    due.filter(pk__in=Subquery(due.values("pk")[:1])).update(updated_at=F("updated_at"))
    return due.first()


def _no_longer_needed(organization: Organization, row: Notification) -> str:
    """Why a planned reminder should not go out any more (the thing was done), or ''."""
    parts = row.subject_key.split(":")
    if parts[0] == "survey" and len(parts) == 4 and row.kind in (Kind.SURVEY_INVITATION, Kind.SURVEY_REMINDER):
        return _survey_answered(organization, parts)
    if parts[0] == "help_request" and row.kind in (
        Kind.HELP_REQUEST_NEW,
        Kind.HELP_REQUEST_UNANSWERED,
        Kind.HELP_REQUEST_ESCALATED,
    ):
        still_open = (
            HelpRequest.objects.for_organization(organization)
            .filter(pk=int(parts[1]), status=HelpRequest.Status.OPEN, first_response_at__isnull=True)
            .exists()
        )
        return "" if still_open else _("The help request was answered before the reminder went out.")
    if parts[0] == "milestone" and len(parts) == 4:
        finished = (
            MilestoneProgress.objects.for_organization(organization)
            .filter(
                milestone_id=int(parts[1]),
                enrollment_id=int(parts[3]),
                status__in=[MilestoneProgress.Status.SUBMITTED, MilestoneProgress.Status.DONE],
            )
            .exists()
        )
        return _("The milestone was submitted before the reminder went out.") if finished else ""
    if parts[0] == "enrollment" and row.kind == Kind.PARTICIPANT_SILENT:
        spoke_since = (
            Enrollment.objects.for_organization(organization)
            .filter(pk=int(parts[1]), last_contact_at__gt=row.created_at)
            .exists()
        )
        return _("The participant got in touch before the reminder went out.") if spoke_since else ""
    return ""


def _survey_answered(organization: Organization, parts: list[str]) -> str:
    """Why an invitation or reminder to a survey is not needed any more: the person answered, or ''."""
    survey = ValueSurvey.objects.for_organization(organization).filter(pk=int(parts[1])).first()
    if survey is None:
        return _("The survey was deleted before the invitation went out.")
    model = Enrollment if parts[2] == "enrollment" else Mentor
    respondent = model.objects.for_organization(organization).filter(pk=int(parts[3])).first()
    if respondent is None:
        return ""
    key = respondent_key(survey=survey, **{"enrollment" if model is Enrollment else "mentor": respondent})
    answered = SurveyResponse.objects.for_organization(organization).filter(survey=survey, respondent_key=key)
    return _("The survey was answered before the message went out.") if answered.exists() else ""


def _why_not_send(organization: Organization, settings: NotificationSettings, row: Notification) -> str:
    if row.channel != Channel.WEBHOOK and selectors.is_unsubscribed(
        organization=organization, email=row.recipient, kind=row.kind
    ):
        return _("Not sent: the recipient unsubscribed from this kind of message.")
    if row.channel == Channel.WEBHOOK and not settings.webhook_url:
        return _("Not sent: the organization has no webhook URL any more.")
    return _no_longer_needed(organization, row)


def _cancel(row: Notification, why: str) -> None:
    row.status = Notification.Status.CANCELLED
    row.last_error = why
    row.save(update_fields=["status", "last_error", "updated_at"])


def _claim_next(organization: Organization, settings: NotificationSettings, skip_channels: set[str], result):
    """Claim the next due row and commit its attempt before anything is sent.

    Returns a :class:`_Claim`, ``_SKIPPED`` (the row was cancelled: the thing was done,
    the person unsubscribed) or None (nothing due).
    """
    with rls.organization_context(organization.id):
        row = _lock_next_due(organization, skip_channels=skip_channels)
        if row is None:
            return None
        why = _why_not_send(organization, settings, row)
        if why:
            _cancel(row, why)
            result.cancelled += 1
            return _SKIPPED
        now = timezone.now()
        attempt_id = uuid.uuid4()
        worker = _worker_name()[:200]
        row.status = Notification.Status.SENDING
        row.attempt_id = attempt_id
        row.claimed_at = now
        row.claimed_by = worker
        row.attempts += 1
        row.save(update_fields=["status", "attempt_id", "claimed_at", "claimed_by", "attempts", "updated_at"])
        route = channels.adapter_for(row.channel).route(row)
        DeliveryAttempt.objects.create(
            organization_id=row.organization_id,
            notification=row,
            attempt_id=attempt_id,
            started_at=now,
            worker=worker,
            route=route,
        )
    return _Claim(row=row, attempt_id=attempt_id, started=now, route=route)


def _send(claim: _Claim, way: channels.Way, mail_connection) -> str:
    """Hand one claimed row to its channel's adapter; return the provider's message id ('' if none)."""
    row = claim.row
    adapter = channels.adapter_for(row.channel)
    outgoing = channels.Outgoing(row=row, way=way, route=claim.route, mail_connection=mail_connection)
    if row.channel == Channel.EMAIL:
        token = links.unsubscribe_token(
            organization_id=row.organization_id, email=row.recipient, kind=row.kind, language=row.language
        )
        outgoing.unsubscribe_url = links.unsubscribe_link(token)
    if row.channel in (Channel.SLACK, Channel.TEAMS):
        with rls.organization_context(row.organization_id):
            outgoing.profile = selectors.channel_profile_of(organization=way.organization, email=row.recipient)
    return adapter.send(outgoing)


def _with_database_retries(write):
    """Run ``write`` (which opens its own transaction), reconnecting on a lost connection.

    The outcome of a message the provider accepted must be recorded even when the
    connection to PostgreSQL dropped while we were talking to the provider. Inside an
    outer transaction (a test) there is nothing to reconnect: the error is raised.
    """
    for delay in (*RECORD_RETRY_DELAYS_SECONDS, None):
        try:
            return write()
        except (OperationalError, InterfaceError):
            if delay is None or db_connection.in_atomic_block:
                raise
            logger.warning("recording a delivery failed; reconnecting in %ss", delay, exc_info=True)
            db_connection.close()
            time.sleep(delay)
    return None  # not reached


def _record_outcome(
    organization: Organization,
    claim: _Claim,
    error: BaseException | None,
    rules,
    result,
    provider_message_id: str = "",
) -> None:
    """Record what the provider said, in a fresh transaction (retried on database errors).

    Matched by attempt id: a row that a person resent or the lease sweep reset in the
    meantime is not overwritten by an old attempt's failure. A success always wins: the
    provider has the message.
    """
    row_id = claim.row.pk
    message = "" if error is None else f"{type(error).__name__}: {error}"[:2000]

    def write():
        with rls.organization_context(organization.id):
            now = timezone.now()
            attempt = DeliveryAttempt.objects.for_organization(organization).filter(attempt_id=claim.attempt_id)
            current = Notification.objects.for_organization(organization).filter(pk=row_id, attempt_id=claim.attempt_id)
            if error is None:
                reports = channels.adapter_for(claim.row.channel).reports and bool(provider_message_id)
                attempt.update(
                    finished_at=now,
                    succeeded=True,
                    error="",
                    provider_message_id=provider_message_id[:100],
                    delivery_status="pending" if reports else "",
                    updated_at=now,
                )
                return current.exclude(status=Notification.Status.SENT).update(
                    status=Notification.Status.SENT, sent_at=now, last_error="", updated_at=now
                )
            attempt.update(finished_at=now, succeeded=False, error=message, updated_at=now)
            row = (
                current.filter(status__in=[Notification.Status.SENDING, Notification.Status.UNCERTAIN])
                .select_for_update()
                .first()
            )
            if row is None:
                return 0
            row.last_error = message
            if isinstance(error, channels.AlimTalkRefused) and _fallback_to_sms(organization, row, message, now):
                result.wake_in(1)
                return 1
            if row.attempts >= MAX_ATTEMPTS:
                row.status = Notification.Status.FAILED
            else:
                row.status = Notification.Status.PENDING
                delay = retry_delay_seconds(row.attempts)
                row.next_attempt_at = rules.next_allowed_moment(now + datetime.timedelta(seconds=delay))
                result.wake_in(delay)
            row.save(update_fields=["status", "last_error", "next_attempt_at", "updated_at"])
            return 1

    _with_database_retries(write)
    if error is None:
        result.sent += 1
        logger.info("sent notification %s", row_id)
    else:
        result.failed += 1
        logger.warning("notification %s failed (attempt %s): %s", row_id, claim.row.attempts, message)


def _fallback_to_sms(organization: Organization, row: Notification, why: str, now) -> bool:
    """Queue the SMS fallback of a KakaoTalk row that AlimTalk could not deliver, once. Call it locked.

    The row goes back to ``pending`` with ``payload.fallback = "sms"``; the relay claims
    it like any row (a committed attempt of its own, route ``sms``), so the window
    between "the provider accepted" and "we recorded it" ends in ``uncertain`` for the
    SMS too. False when the fallback was used already.
    """
    payload = dict(row.payload or {})
    if row.channel != Channel.KAKAO or payload.get("fallback") == "sms":
        return False
    if DeliveryAttempt.objects.for_organization(organization).filter(notification=row, route="sms").exists():
        return False
    payload["fallback"] = "sms"
    row.payload = payload
    row.status = Notification.Status.PENDING
    row.next_attempt_at = now
    with translation.override(organization.language):
        row.last_error = _("KakaoTalk could not deliver it (%(why)s); it is sent as a text message instead.") % {
            "why": why[:500]
        }
    row.save(update_fields=["payload", "status", "next_attempt_at", "last_error", "updated_at"])
    return True


def _recover_lost_attempts(organization: Organization, result) -> None:
    """Rows left ``sending`` by a lost worker: email becomes uncertain, a webhook pending again.

    Never resends an email on its own: the provider may have it. Rows still inside
    their lease make the relay look again when the lease ends.
    """
    now = timezone.now()
    lease = sending_lease()
    sending = Notification.objects.for_organization(organization).filter(status=Notification.Status.SENDING)
    stale = sending.filter(claimed_at__lt=now - lease)
    if db_connection.features.has_select_for_update_skip_locked:
        stale = stale.select_for_update(skip_locked=True, of=("self",))
    for row in stale:
        if channels.adapter_for(row.channel).resend_when_lost:
            row.status = Notification.Status.PENDING
            row.next_attempt_at = now
            why = _("The worker was lost while posting; it is posted again with the same webhook-id.")
        elif row.channel == Channel.EMAIL:
            row.status = Notification.Status.UNCERTAIN
            why = _(
                "The worker was lost while handing this message to the mail server: it may or may not have "
                "been delivered. It is not sent again unless you resend it."
            )
        else:
            row.status = Notification.Status.UNCERTAIN
            why = _(
                "The worker was lost while handing this message to the provider (KakaoTalk, text message or "
                "chat): it may or may not have been delivered. It is not sent again unless you resend it."
            )
        if row.status == Notification.Status.UNCERTAIN:
            result.uncertain += 1
            logger.error("notification %s: outcome unknown (worker %s lost mid-send)", row.pk, row.claimed_by)
        row.last_error = why
        row.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])
        DeliveryAttempt.objects.for_organization(organization).filter(
            attempt_id=row.attempt_id, finished_at__isnull=True
        ).update(finished_at=now, error=why, updated_at=now)
    oldest = sending.filter(claimed_at__gte=now - lease).order_by("claimed_at").values_list("claimed_at", flat=True)
    first = oldest.first()
    if first is not None:
        result.wake_in((first + lease - now).total_seconds() + 1)


def _defer_quiet_hours(organization: Organization, rules, result) -> bool:
    """In quiet hours (or on a day without sending) move every due row to the next allowed moment.

    However a row was planned (the daily window, "plan now", a retry), nothing goes out
    at night. Returns True when sending is not allowed now.
    """
    now = timezone.now()
    if rules.is_allowed(now):
        return False
    with rls.organization_context(organization.id):
        result.deferred = _due(organization, now).update(next_attempt_at=rules.next_allowed_moment(now), updated_at=now)
    return True


class _Channels:
    """The ways out of one relay batch and their circuit breakers (one per provider or server)."""

    def __init__(self, way: channels.Way):
        self.way = way
        self.keys: dict[str, str] = {}
        for channel, adapter in channels.ADAPTERS.items():
            key = adapter.circuit_key(way)
            if key:
                self.keys[channel] = key
        self.blocked: set[str] = set()
        self.healthy: set[str] = set()  # known closed with no failures: no write on success

    def check_all(self, result) -> None:
        for channel, key in self.keys.items():
            verdict = breaker.check(key)
            if verdict.allowed:
                continue
            if verdict.probe and self._probe(channel, key):
                continue
            self.blocked.add(channel)
            result.wake_in(verdict.retry_in_seconds)

    def _probe(self, channel: str, key: str) -> bool:
        try:
            channels.adapter_for(channel).probe(self.way)
        except Exception as error:
            breaker.probe_failed(key, f"{type(error).__name__}: {error}")
            return False
        breaker.probe_succeeded(key)
        return True

    def succeeded(self, channel: str) -> None:
        key = self.keys.get(channel)
        if key and key not in self.healthy:
            breaker.record_success(key)
            self.healthy.add(key)

    def failed(self, channel: str, error: BaseException, result) -> None:
        key = self.keys.get(channel)
        if key is None or not channels.is_channel_failure(error):
            return
        self.healthy.discard(key)
        if breaker.record_failure(key, f"{type(error).__name__}: {error}"):
            self.blocked.add(channel)
            result.wake_in(breaker.probe_seconds(0))


def notification_relay(*, organization: Organization, limit: int = RELAY_BATCH_SIZE) -> RelayResult:
    """Send up to ``limit`` due rows of one organization; never one message twice on its own.

    For each row, three steps (see the module docstring):

    1. claim it and commit the attempt (``sending``, attempt id, worker, start);
    2. hand it to the provider, with no transaction open;
    3. record the outcome in a fresh transaction, retried on database errors.

    Call it outside a transaction (the relay task does; see
    ``notifications.tasks.OwnTransactionsTask``).
    """
    result = RelayResult()
    with rls.organization_context(organization.id):
        settings = selectors.notification_settings_for(organization=organization)
        credentials = selectors.channel_credentials_for(organization=organization)
        _recover_lost_attempts(organization, result)
    rules = SendingRules.for_organization(organization, settings)
    if _defer_quiet_hours(organization, rules, result):
        return result
    mail_timeout = getattr(django_settings, "EMAIL_TIMEOUT", None) or MAIL_TIMEOUT_SECONDS
    ways = _Channels(channels.Way(organization, settings, credentials, mail_timeout))
    ways.check_all(result)
    mail_connection = None
    try:
        for _index in range(limit):
            claim = _claim_next(organization, settings, ways.blocked, result)
            if claim is None:
                break
            if claim is _SKIPPED:
                continue
            row = claim.row
            if row.channel == Channel.EMAIL and mail_connection is None:
                mail_connection = get_connection(fail_silently=False, timeout=mail_timeout)
            logger.info("sending notification %s (%s, attempt %s)", row.pk, row.kind, row.attempts)
            error = None
            provider_message_id = ""
            try:
                provider_message_id = _send(claim, ways.way, mail_connection)
            except Exception as raised:
                error = raised
            _record_outcome(organization, claim, error, rules, result, provider_message_id)
            if error is None:
                ways.succeeded(row.channel)
            else:
                ways.failed(row.channel, error, result)
                if row.channel == Channel.EMAIL:  # the connection may be broken; the next row opens a fresh one
                    _close_quietly(mail_connection)
                    mail_connection = None
        else:
            with rls.organization_context(organization.id):
                result.more_due = _due(organization, timezone.now()).exclude(channel__in=ways.blocked).exists()
    finally:
        _close_quietly(mail_connection)
    return result


def _close_quietly(mail_connection) -> None:
    if mail_connection is None:
        return
    try:
        mail_connection.close()
    except Exception:
        logger.debug("closing the mail connection failed", exc_info=True)


# --- Program managers' actions ------------------------------------------------------------


RETRYABLE_STATUSES = (Notification.Status.FAILED, Notification.Status.CANCELLED, Notification.Status.UNCERTAIN)


@transaction.atomic
def notification_retry(*, organization: Organization, notification: Notification) -> Notification:
    """Put a failed, not sent or uncertain row back in the queue, to go out now.

    For an uncertain row this is the person's decision to risk a repeat; the message
    keeps its ``Message-ID``, so a mail system that already has it may drop it.
    """
    require_same_organization(organization, notification=notification)
    notification = Notification.objects.for_organization(organization).select_for_update().get(pk=notification.pk)
    if notification.status in RETRYABLE_STATUSES:
        now = timezone.now()
        notification.status = Notification.Status.PENDING
        notification.attempts = 0
        notification.next_attempt_at = now
        notification.last_error = ""
        notification.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "updated_at"])
        enqueue_relay(organization_id=organization.id)
    return notification


@transaction.atomic
def unsubscribe_record(*, organization: Organization, email: str, kind: str) -> Unsubscribe:
    """Stop one kind of message to one address; waiting rows of that kind are cancelled."""
    email = email.strip().lower()
    unsubscribe, _created = Unsubscribe.objects.for_organization(organization).get_or_create(
        organization=organization, email=email, kind=kind
    )
    with translation.override(organization.language):
        why = _("Not sent: the recipient unsubscribed from this kind of message.")
    Notification.objects.for_organization(organization).filter(
        recipient=email, kind=kind, status=Notification.Status.PENDING
    ).update(status=Notification.Status.CANCELLED, last_error=why, updated_at=timezone.now())
    return unsubscribe


@transaction.atomic
def unsubscribe_undo(*, organization: Organization, email: str, kind: str) -> None:
    Unsubscribe.objects.for_organization(organization).filter(email=email.strip().lower(), kind=kind).delete()


# --- Channels (issue #19) ----------------------------------------------------------------

REPORT_WINDOW_DAYS = 3  # Solapi settles a message within 72 hours; older unknown reports are left


def report_window_start() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=REPORT_WINDOW_DAYS)


def delivery_reports_poll(*, organization: Organization, limit: int = 100) -> dict:
    """Record the provider's delivery reports of accepted KakaoTalk and SMS attempts.

    Called outside a transaction (the poll speaks to the provider): each report is
    written in a transaction of its own. An AlimTalk reported as not delivered queues
    its SMS fallback, once (:func:`_fallback_to_sms`), and rings the relay.
    """
    counts = {"delivered": 0, "failed": 0, "pending": 0, "fallbacks": 0}
    with rls.organization_context(organization.id):
        credentials = selectors.channel_credentials_for(organization=organization)
        attempts = list(
            selectors.attempts_awaiting_report(organization=organization, since=report_window_start())[:limit]
        )
    if not attempts or credentials is None or not credentials.kakao_ready:
        return counts
    client = channels.adapter_for(Channel.KAKAO).client(
        channels.Way(organization=organization, settings=None, credentials=credentials, mail_timeout=0)
    )
    for attempt in attempts:
        try:
            report = client.report(attempt.provider_message_id)
        except Exception:
            logger.warning("delivery report of attempt %s could not be read", attempt.pk, exc_info=True)
            continue
        counts[report.status] += 1
        if report.status == "pending":
            continue
        with transaction.atomic(), rls.organization_context(organization.id):
            now = timezone.now()
            detail = f"{report.code} {report.detail}".strip()[:300]
            updated = (
                DeliveryAttempt.objects.for_organization(organization)
                .filter(pk=attempt.pk, delivery_status="pending")
                .update(delivery_status=report.status, delivery_detail=detail, reported_at=now, updated_at=now)
            )
            if not updated or report.status != "failed":
                continue
            row = (
                Notification.objects.for_organization(organization)
                .select_for_update()
                .filter(pk=attempt.notification_id, status=Notification.Status.SENT)
                .first()
            )
            if row is None:
                continue
            if attempt.route == "alimtalk" and _fallback_to_sms(organization, row, detail, now):
                counts["fallbacks"] += 1
                enqueue_relay(organization_id=organization.id)
            else:
                row.status = Notification.Status.FAILED
                with translation.override(organization.language):
                    row.last_error = _("The provider reported that it could not deliver the message: %(why)s") % {
                        "why": detail
                    }
                row.save(update_fields=["status", "last_error", "updated_at"])
    return counts


@transaction.atomic
def channel_credentials_update(*, organization: Organization, **changes) -> ChannelCredentials:
    """Create or change the organization's provider credentials. An empty secret keeps the stored one."""
    current = ChannelCredentials.objects.for_organization(organization).select_for_update().first()
    current = current or ChannelCredentials(organization=organization)
    for name, value in changes.items():
        if name in SECRET_FIELDS and not value:
            continue
        setattr(current, name, value)
    current.full_clean()
    current.save()
    return current


SECRET_FIELDS = ("solapi_api_key", "solapi_api_secret", "slack_bot_token", "teams_webhook_url")


@transaction.atomic
def alimtalk_template_save(
    *, organization: Organization, kind: str, language: str, template_id: str, content: str, is_active: bool = True
) -> AlimTalkTemplate:
    """Register (or replace) the approved AlimTalk template of one kind and language."""
    template = (
        AlimTalkTemplate.objects.for_organization(organization)
        .select_for_update()
        .filter(kind=kind, language=language)
        .first()
    ) or AlimTalkTemplate(organization=organization, kind=kind, language=language)
    template.template_id = template_id.strip()
    template.content = content
    template.is_active = is_active
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def alimtalk_template_change(*, organization: Organization, template: AlimTalkTemplate, **changes) -> AlimTalkTemplate:
    """Change a registered template (its kind, language, id, text or use), validated like a new one."""
    template = AlimTalkTemplate.objects.for_organization(organization).select_for_update().get(pk=template.pk)
    for name, value in changes.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def channel_profile_update(
    *,
    organization: Organization,
    email: str,
    choices: dict | None = None,
    only_kinds: list[str] | None = None,
    slack_member_id: str | None = None,
    teams_webhook_url: str | None = None,
) -> ChannelProfile:
    """Save how one person wants to be reached. ``None`` leaves a field as it is; an empty Teams URL keeps it.

    ``choices`` replaces every kind's choice, or with ``only_kinds`` only those kinds'
    (a page that shows a mentor's kinds keeps what a program manager set for the others).
    """
    email = (email or "").strip().lower()
    profile = (
        ChannelProfile.objects.for_organization(organization).select_for_update().filter(email=email).first()
    ) or ChannelProfile(organization=organization, email=email)
    if choices is not None:
        chosen = {kind: list(value) for kind, value in choices.items()}
        if only_kinds is not None:
            only = set(only_kinds)
            kept = {kind: value for kind, value in (profile.choices or {}).items() if kind not in only}
            chosen = kept | {kind: value for kind, value in chosen.items() if kind in only}
        profile.choices = chosen
    if slack_member_id is not None:
        profile.slack_member_id = slack_member_id.strip()
    if teams_webhook_url:
        profile.teams_webhook_url = teams_webhook_url.strip()
    profile.full_clean()
    profile.save()
    return profile
