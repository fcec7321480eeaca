"""What the outbox holds about a person, for data-subject requests (registry: core/privacy.py).

Messages to the person (recipient = one of their addresses) are kept as rows (kind,
status, dates: the delivery figures stay) with the address, name, subject and bodies
replaced; their delivery attempts lose their error texts (which may quote the address).
Unsubscribes and channel choices (Slack member id, Teams webhook) of the person's addresses
are deleted: there is no address left to send to.
Names in other messages (a digest to a PM listing the person) go with the sweep.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import privacy
from notifications.models import ChannelProfile, DeliveryAttempt, Notification, Unsubscribe

privacy.identity_column("notifications.Notification", "recipient_name")


def _addressed(subject):
    emails = subject.identity.emails
    if not emails:
        return Notification.objects.for_organization(subject.organization).none()
    match = Q()
    for email in emails:
        match |= Q(recipient__iexact=email)
    return Notification.objects.for_organization(subject.organization).filter(match)


@privacy.exporter("notifications", _("Messages sent to the person"))
def export_notifications(subject):
    return [
        {
            "kind": n.kind,
            "channel": n.channel,
            "recipient": n.recipient,
            "subject": n.subject_line,
            "text": n.body_text,
            "status": n.status,
            "scheduled_for": n.scheduled_for,
            "sent_at": n.sent_at,
        }
        for n in _addressed(subject).order_by("scheduled_for", "id")
    ]


def _email_match(subject, field: str = "email") -> Q | None:
    emails = subject.identity.emails
    if not emails:
        return None
    match = Q()
    for email in emails:
        match |= Q(**{f"{field}__iexact": email})
    return match


@privacy.exporter("channel_choices", _("How the person chose to be reached"))
def export_channel_choices(subject):
    match = _email_match(subject)
    if match is None:
        return []
    return [
        {
            "email": profile.email,
            "channels_per_kind": profile.choices,
            "slack_member_id": profile.slack_member_id,
            "teams_webhook": bool(profile.teams_webhook_url),
        }
        for profile in ChannelProfile.objects.for_organization(subject.organization).filter(match).order_by("id")
    ]


@privacy.eraser("notifications")
def erase(subject, placeholder: str) -> int:
    organization = subject.organization
    rows = list(_addressed(subject).values_list("pk", flat=True))
    changed = 0
    for pk in rows:
        # The unique key includes the recipient: each row gets its own stand-in address.
        changed += (
            Notification.objects.for_organization(organization)
            .filter(pk=pk)
            .update(
                recipient=f"erased-{pk}@invalid.example",
                recipient_name="",
                subject_line=placeholder,
                body_text=placeholder,
                body_html="",
                payload={},
                reason="",
                last_error="",
            )
        )
    DeliveryAttempt.objects.for_organization(organization).filter(notification_id__in=rows).update(error="")
    match = _email_match(subject)
    if match is not None:
        changed += Unsubscribe.objects.for_organization(organization).filter(match).delete()[0]
        changed += ChannelProfile.objects.for_organization(organization).filter(match).delete()[0]
    return changed
