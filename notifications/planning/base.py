"""The planner's frame: what a planned message is, the entry points and the helpers every rule uses."""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from notifications import content
from notifications.models import PARTICIPANT_CHANNELS, STAFF_CHANNELS, Channel, Kind
from notifications.schedule import SendingRules
from notifications.selectors import Person, PlanningData
from notifications.solapi import e164

# Messages that only make sense as email: a link sent to the address that asked for it,
# calendar invitations (an .ics attachment).
EMAIL_ONLY_KINDS = {
    Kind.LOST_LINK.value,
    "office_hours_booked",
    "office_hours_changed",
    "office_hours_cancelled",
}
OVERDUE_REMINDER_DAYS = 7  # after this, an overdue milestone is left to the weekly digest
PREVIEW_DAYS = 14
WEBHOOK = "webhook"


@dataclass
class Planned:
    """One message the rules want sent: the future outbox row, before rendering."""

    kind: str
    channel: str
    subject_key: str
    slot: str
    recipient: Person | None  # None for the webhook
    run_id: int | None
    scheduled_for: datetime.datetime
    reason: Callable[[], str]  # why, for program managers (rendered in the reader's language)
    build: Callable[[], content.Message]  # rendered in the recipient's language
    language: str = "ko"
    unsubscribed: bool = False
    destination: str = ""  # KakaoTalk: the phone number in E.164
    template: object = None  # KakaoTalk: the approved AlimTalk template
    calendar: str = ""  # an iCalendar text sent with the email (office hours), fixed in the row

    @property
    def address(self) -> str:
        return self.recipient.email if self.recipient else WEBHOOK

    @property
    def recipient_name(self) -> str:
        return self.recipient.name if self.recipient else ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.subject_key, self.slot, self.channel, self.address)


def _enrollment_name(enrollment) -> str:
    return str(enrollment.participant or enrollment.team or "?")


def _window_label(window) -> str:
    """A window's name, or its kind's label in the active language (call it while rendering)."""
    return str(getattr(window, "label", "") or window)


class PlannerBase:
    """Entry points and helpers; each rule family is a mixin of :class:`~notifications.planning.Planner`."""

    def __init__(self, data: PlanningData):
        self.data = data
        self.organization = data.organization
        self.settings = data.settings
        self.rules = SendingRules.for_organization(data.organization, data.settings)
        self.now: datetime.datetime | None = None  # the moment of planning (for messages of a moment)

    # --- entry points ------------------------------------------------------------------

    def due_now(self, now: datetime.datetime, *, respect_send_window: bool = True) -> list[Planned]:
        """What should be in the outbox by now.

        Daily kinds only while the daily window is open (a send day, from the send hour
        until quiet hours), unless ``respect_send_window`` is off (a program manager's
        "plan now", the demo). Time-based kinds whenever their moment has passed.
        """
        planned: list[Planned] = []
        self.now = now
        if not respect_send_window or self.rules.daily_window_is_open(now):
            planned.extend(self.daily(self.rules.local_date(now), at=now))
        planned.extend(self.timed(until=now))
        return self._unique(planned)

    def preview(self, now: datetime.datetime, *, days: int = PREVIEW_DAYS) -> list[Planned]:
        """What would be planned over the next ``days`` days if nothing changed, in order."""
        planned: list[Planned] = []
        self.now = now
        today = self.rules.local_date(now)
        for offset in range(days):
            day = today + datetime.timedelta(days=offset)
            if not self.rules.is_send_day(day):
                continue
            moment = self.rules.send_moment(day)
            if offset == 0 and moment <= now:
                if not self.rules.daily_window_is_open(now):
                    continue  # today's window is over
                moment = now
            planned.extend(self.daily(day, at=moment))
        planned.extend(self.timed(until=now + datetime.timedelta(days=days)))
        return sorted(self._unique(planned), key=lambda p: (p.scheduled_for, p.kind, p.address))

    def daily(self, day: datetime.date, *, at: datetime.datetime) -> list[Planned]:
        """The daily rules on local ``day``, evaluated at ``at``, which is also when the rows are due.

        (Planning runs at the send moment or later, the preview at each day's send moment.)
        """
        scheduled = at
        planned: list[Planned] = []
        for rule in (
            self._milestones,
            self._quiet_participants,
            self._goals,
            self._assessment_windows,
            self._digests,
        ):
            planned.extend(rule(day, at, scheduled))
        return planned

    def timed(self, *, until: datetime.datetime) -> list[Planned]:
        return [
            *self._help_requests(until),
            *self._help_requests_new(until),
            *self._help_replies(until),
            *self._welcomes(until),
            *self._surveys(until),
        ]

    # --- helpers ---------------------------------------------------------------------

    def enabled(self, kind: str) -> bool:
        return kind in (self.settings.enabled_kinds or [])

    def webhook_wanted(self, kind: str) -> bool:
        return bool(self.settings.webhook_url) and self.enabled(kind) and kind in (self.settings.webhook_kinds or [])

    def _unique(self, planned: Iterable[Planned]) -> list[Planned]:
        """First occurrence of each key wins, the way the unique constraint would.

        Each message to a person becomes one row per channel the person chose for its
        kind (:meth:`_channels_of`).
        """
        seen: dict[tuple, Planned] = {}
        planned = [copy for item in planned for copy in self._per_channel(item)]
        for item in planned:
            item.unsubscribed = item.recipient is not None and (item.address, item.kind) in self.data.unsubscribed
            seen.setdefault(item.key, item)
        return list(seen.values())

    def _per_channel(self, item: Planned) -> list[Planned]:
        if item.recipient is None or item.channel != Channel.EMAIL:
            return [item]
        copies = []
        for channel, destination, template in self._channels_of(item.recipient, item.kind, item.language):
            copies.append(dataclasses.replace(item, channel=channel, destination=destination, template=template))
        return copies

    def _channels_of(self, person: Person, kind: str, language: str) -> list[tuple[str, str, object]]:
        """The channels a message of ``kind`` goes to for ``person``: their choice, else the defaults.

        A channel the person or the organization cannot use (no phone number, no
        approved template for the kind and language, no Slack member id or bot token,
        no Teams URL) is left out; when none is left the message goes by email, so
        choosing a channel never loses a message.
        """
        if kind in EMAIL_ONLY_KINDS:
            return [(Channel.EMAIL, "", None)]
        profile = self.data.channel_profiles.get(person.email)
        if profile is not None and kind in (profile.choices or {}):
            wanted = profile.choices[kind]
        elif person.audience == "participant":
            wanted = self.settings.participant_channels or [Channel.EMAIL]
        else:
            wanted = self.settings.staff_channels or [Channel.EMAIL]
        offered = PARTICIPANT_CHANNELS if person.audience == "participant" else STAFF_CHANNELS
        credentials = self.data.credentials
        found: list[tuple[str, str, object]] = []
        for channel in wanted:
            if channel not in offered:
                continue
            if channel == Channel.EMAIL:
                found.append((channel, "", None))
            elif channel == Channel.KAKAO:
                template = self.data.alimtalk_templates.get((kind, language))
                phone = e164(person.phone)
                if template is not None and phone and credentials is not None and credentials.kakao_ready:
                    found.append((channel, phone, template))
            elif channel == Channel.SLACK:
                if (
                    profile is not None
                    and profile.slack_member_id
                    and credentials is not None
                    and credentials.slack_ready
                ):
                    found.append((channel, "", None))
            elif channel == Channel.TEAMS and profile is not None and profile.teams_webhook_url:
                found.append((channel, "", None))
        return found or [(Channel.EMAIL, "", None)]

    def _to_person(self, person: Person, *, kind, subject_key, slot, run_id, scheduled, reason, build) -> Planned:
        return Planned(
            kind=kind,
            channel=Channel.EMAIL,
            subject_key=subject_key,
            slot=slot,
            recipient=person,
            run_id=run_id,
            scheduled_for=scheduled,
            reason=reason,
            build=functools.partial(build, person),
            language=person.language,
        )

    def _to_webhook(self, *, kind, subject_key, slot, run_id, scheduled, reason, build) -> Planned:
        return Planned(
            kind=kind,
            channel=Channel.WEBHOOK,
            subject_key=subject_key,
            slot=slot,
            recipient=None,
            run_id=run_id,
            scheduled_for=scheduled,
            reason=reason,
            build=build,
            language=self.organization.language,
        )

    def _last_contact_day(self, enrollment, run) -> datetime.date:
        last = enrollment.last_contact_at or enrollment.created_at
        return max(self.rules.local_date(last), run.starts_on)

    def _run_is_on(self, run, day: datetime.date) -> bool:
        return run.starts_on <= day <= run.ends_on
