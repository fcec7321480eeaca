"""Writes of the notifications app: planning the outbox, relaying it, unsubscribing.

Exactly once, nothing lost:

1. :func:`notifications_plan` writes one outbox row per message *before* anything is
   sent. Rows have a unique key (organization, kind, subject, slot, channel,
   recipient) and are inserted with ``ON CONFLICT DO NOTHING``, so planning the same
   slot twice, from two beats or two workers, creates nothing new.
2. :func:`notification_relay` sends due rows one at a time, each in its own
   transaction: it claims a row with ``SELECT ... FOR UPDATE SKIP LOCKED`` (other
   relays skip it), sends it, and marks it sent in the same transaction. If the
   worker dies mid-send, PostgreSQL rolls the transaction back, the lock goes with
   it, and the next relay sends the row. A failure is logged as an attempt and the
   row is retried with back-off (kept below the broker's visibility timeout), then
   marked failed for a program manager to retry from the outbox.

   The relay task therefore does not run in one transaction like other tasks
   (:class:`core.rls.TenantTask`); each row's transaction carries the organization's
   row-level-security context itself.

   SQLite (the embedded default) has no ``SKIP LOCKED``: the relay opens each
   transaction with a write, which takes SQLite's database-wide write lock, so two
   relays take turns instead of skipping each other.

The one window left is a crash after the mail server accepted a message and before
the commit (milliseconds): the message is then sent again, with the same
``Message-ID`` so that receivers can drop it. See docs/operations.md.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
from dataclasses import dataclass

from django.conf import settings as django_settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import rls
from core.models import Organization
from notifications import channels, content, links, selectors
from notifications.models import Channel, DeliveryAttempt, Kind, Notification, NotificationSettings, Unsubscribe
from notifications.planning import Planned, Planner
from notifications.schedule import SendingRules

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
RETRY_DELAYS_SECONDS = (60, 300, 900, 1800)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
RELAY_BATCH_SIZE = 50
MAIL_TIMEOUT_SECONDS = 30  # unless EMAIL_TIMEOUT says otherwise
# A row this late that meets quiet hours waits for the next window instead of going out at night.
LATE_GRACE = datetime.timedelta(hours=1)


def broker_visibility_timeout() -> int:
    options = getattr(django_settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    return int(options.get("visibility_timeout", 3600))


def retry_delay_seconds(failed_attempts: int) -> int:
    """Back-off after a failure, capped at half the broker's visibility timeout.

    The relay wakes itself up with a countdown of this length; Redis hands a task
    that waits longer than its visibility timeout to a second worker.
    """
    index = max(1, min(failed_attempts, len(RETRY_DELAYS_SECONDS))) - 1
    return min(RETRY_DELAYS_SECONDS[index], broker_visibility_timeout() // 2)


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


def _rendered_row(organization: Organization, planned: Planned) -> Notification:
    with translation.override(planned.language):
        message = planned.build()
        if planned.channel == Channel.EMAIL:
            token = links.unsubscribe_token(
                organization_id=organization.id, email=planned.address, kind=planned.kind, language=planned.language
            )
            subject, text, html = content.render_email(
                message=message,
                organization_name=organization.name,
                kind_label=str(Kind(planned.kind).label),
                unsubscribe_url=links.unsubscribe_link(token),
            )
            payload: dict = {}
        else:
            payload = content.webhook_payload(
                message=message, kind=planned.kind, organization_slug=organization.slug, notification_id=None
            )
            subject, text, html = message.subject, payload["text"], ""
    with translation.override(organization.language):
        reason = planned.reason()
    row = Notification(
        organization=organization,
        kind=planned.kind,
        channel=planned.channel,
        subject_key=planned.subject_key,
        slot=planned.slot,
        recipient=planned.address,
        recipient_name=planned.recipient_name[:200],
        language=planned.language,
        run_id=planned.run_id,
        reason=reason,
        subject_line=subject[:300],
        body_text=text,
        body_html=html,
        payload=payload,
        scheduled_for=planned.scheduled_for,
        next_attempt_at=planned.scheduled_for,
    )
    if planned.unsubscribed:
        row.status = Notification.Status.CANCELLED
        with translation.override(organization.language):
            row.last_error = _("Not sent: the recipient unsubscribed from this kind of message.")
    return row


@transaction.atomic
def notifications_plan(
    *, organization: Organization, now: datetime.datetime | None = None, respect_send_window: bool = True
) -> int:
    """Write the outbox rows that are due by ``now``; return how many were new.

    Idempotent: rows whose key exists are neither rendered nor inserted again, and
    the insert ignores conflicts with a concurrent planner.
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
    new_rows = [_rendered_row(organization, p) for p in planned if p.key not in existing]
    if not new_rows:
        return 0
    before = Notification.objects.for_organization(organization).count()
    Notification.objects.bulk_create(new_rows, ignore_conflicts=True)
    created = Notification.objects.for_organization(organization).count() - before
    logger.info("planned %s reminders for organization %s", created, organization.id)
    if created:
        enqueue_relay(organization_id=organization.id)
    return created


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


def enqueue_relay(*, organization_id: int, countdown: int | None = None) -> None:
    """Ring the relay's doorbell once the current transaction commits.

    A lost doorbell loses nothing: the rows are in the database and beat relays due
    rows every minute.
    """

    def ring():
        from notifications.tasks import relay_organization

        try:
            relay_organization.apply_async(
                kwargs={"organization_id": organization_id},
                countdown=countdown,
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
            )
        except Exception:  # the broker is down: beat will pick the rows up
            logger.warning("could not enqueue the relay of organization %s", organization_id, exc_info=True)

    rls.after_commit(ring)


# --- Relaying ---------------------------------------------------------------------------


@dataclass
class RelayResult:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    more_due: bool = False
    retry_in_seconds: int | None = None


def _claim_next_due(organization: Organization) -> Notification | None:
    """Lock and return the next due pending row, or None. Call inside a transaction."""
    due = (
        Notification.objects.for_organization(organization)
        .filter(status=Notification.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
    )
    if db_connection.features.has_select_for_update_skip_locked:
        return due.select_for_update(skip_locked=True, of=("self",)).first()
    # SQLite: begin with a write so that this transaction holds the database write
    # lock before it reads; a concurrent relay waits here and then sees the row sent.
    due.filter(pk__in=Subquery(due.values("pk")[:1])).update(updated_at=F("updated_at"))
    return due.first()


def _no_longer_needed(organization: Organization, row: Notification) -> str:
    """Why a planned reminder should not go out any more (the thing was done), or ''."""
    from programs.models import Enrollment, HelpRequest, MilestoneProgress

    parts = row.subject_key.split(":")
    if parts[0] == "help_request" and row.kind in (Kind.HELP_REQUEST_UNANSWERED, Kind.HELP_REQUEST_ESCALATED):
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


def _finish_attempt(row: Notification, started: datetime.datetime, error: str = "") -> None:
    DeliveryAttempt.objects.create(
        organization_id=row.organization_id,
        notification=row,
        started_at=started,
        finished_at=timezone.now(),
        succeeded=not error,
        error=error[:2000],
        worker=_worker_name()[:200],
    )


def _cancel(row: Notification, why: str) -> None:
    row.status = Notification.Status.CANCELLED
    row.last_error = why
    row.save(update_fields=["status", "last_error", "updated_at"])


def _send(row: Notification, organization: Organization, settings: NotificationSettings, mail_connection) -> None:
    if row.channel == Channel.WEBHOOK:
        payload = dict(row.payload or {}, notification_id=row.pk)
        channels.post_webhook(
            url=settings.webhook_url,
            payload=payload,
            idempotency_key=f"notification-{row.organization_id}-{row.pk}",
        )
        return
    token = links.unsubscribe_token(
        organization_id=organization.id, email=row.recipient, kind=row.kind, language=row.language
    )
    channels.send_email(
        notification=row,
        organization_name=organization.name,
        unsubscribe_url=links.unsubscribe_link(token),
        connection=mail_connection,
    )


def _deliver(
    row: Notification, organization: Organization, settings: NotificationSettings, rules, mail_connection, result
) -> bool:
    """Send one claimed row and record the outcome (inside the claiming transaction).

    Returns False when sending failed; the failure is recorded, not raised, so that
    the transaction commits it.
    """
    if row.channel == Channel.EMAIL and selectors.is_unsubscribed(
        organization=organization, email=row.recipient, kind=row.kind
    ):
        _cancel(row, _("Not sent: the recipient unsubscribed from this kind of message."))
        result.cancelled += 1
        return True
    if row.channel == Channel.WEBHOOK and not settings.webhook_url:
        _cancel(row, _("Not sent: the organization has no webhook URL any more."))
        result.cancelled += 1
        return True
    why = _no_longer_needed(organization, row)
    if why:
        _cancel(row, why)
        result.cancelled += 1
        return True
    started = timezone.now()
    logger.info("sending notification %s (%s, attempt %s)", row.pk, row.kind, row.attempts + 1)
    try:
        _send(row, organization, settings, mail_connection)
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        row.attempts += 1
        row.last_error = message[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = Notification.Status.FAILED
            logger.error("notification %s failed for good after %s attempts: %s", row.pk, row.attempts, message)
        else:
            delay = retry_delay_seconds(row.attempts)
            row.next_attempt_at = rules.next_allowed_moment(timezone.now() + datetime.timedelta(seconds=delay))
            result.retry_in_seconds = min(result.retry_in_seconds or delay, delay)
            logger.warning(
                "notification %s failed (attempt %s), retry in %ss: %s", row.pk, row.attempts, delay, message
            )
        row.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated_at"])
        _finish_attempt(row, started, message)
        result.failed += 1
        return False
    marked = (
        Notification.objects.for_organization(organization)
        .filter(pk=row.pk, status=Notification.Status.PENDING)
        .update(
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            last_error="",
            updated_at=timezone.now(),
        )
    )
    if marked != 1:  # cannot happen while we hold the row lock; shout if it ever does
        logger.error("notification %s was sent but its row had changed under the lock", row.pk)
    _finish_attempt(row, started)
    result.sent += 1
    logger.info("sent notification %s", row.pk)
    return True


def notification_relay(*, organization: Organization, limit: int = RELAY_BATCH_SIZE) -> RelayResult:
    """Send up to ``limit`` due rows of one organization, each exactly once.

    Not one transaction on purpose: each row is claimed, sent and marked sent in its
    own transaction, with the organization's row-level-security context
    (:func:`core.rls.organization_context`), so that what was sent stays sent when
    the worker dies later in the batch. Call it outside a transaction (the relay
    task does; see ``notifications.tasks.OwnTransactionsTask``).
    """
    result = RelayResult()
    with rls.organization_context(organization.id):
        settings = selectors.notification_settings_for(organization=organization)
    rules = SendingRules.for_organization(organization, settings)
    mail_connection = None
    try:
        for _index in range(limit):
            if mail_connection is None:
                # A bounded wait: the row stays locked while its message is handed over.
                timeout = getattr(django_settings, "EMAIL_TIMEOUT", None) or MAIL_TIMEOUT_SECONDS
                mail_connection = get_connection(fail_silently=False, timeout=timeout)
            with rls.organization_context(organization.id):  # one transaction per row
                row = _claim_next_due(organization)
                if row is None:
                    break
                now = timezone.now()
                if not rules.is_allowed(now) and row.scheduled_for < now - LATE_GRACE:
                    # Planned for a send window that passed while nothing relayed (beat or
                    # workers were down) and now it is quiet: wait for the next window.
                    row.next_attempt_at = rules.next_allowed_moment(now)
                    row.save(update_fields=["next_attempt_at", "updated_at"])
                    continue
                delivered = _deliver(row, organization, settings, rules, mail_connection, result)
            if not delivered:
                # The connection may be broken; the next row opens a fresh one.
                _close_quietly(mail_connection)
                mail_connection = None
        else:
            with rls.organization_context(organization.id):
                result.more_due = selectors.has_pending_due(organization=organization, now=timezone.now())
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


@transaction.atomic
def notification_retry(*, organization: Organization, notification: Notification) -> Notification:
    """Put a failed (or not sent) row back in the queue, to go out now."""
    if notification.organization_id != organization.id:
        raise ValueError("notification of another organization")
    if notification.status in (Notification.Status.FAILED, Notification.Status.CANCELLED):
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
