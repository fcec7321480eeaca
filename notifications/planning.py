"""The reminder rules: who gets what, when, and why. No writes.

A :class:`Planner` evaluates every rule over one organization's
:class:`~notifications.selectors.PlanningData` at a given moment. The same rules
serve the real planning (``due_now``) and the 14-day preview (``preview``): the
preview simply asks "what would be planned at each send moment of the next two weeks
if nothing changes?".

Each rule yields :class:`Planned` items with the unique key of an outbox row:
(kind, subject, slot, channel, recipient). Slots are tied to the occasion, not to the
day the rule ran: a milestone's reminders carry its due date (``due:2026-03-05``), a
digest its ISO week. Planning on a later day because beat was down therefore still
finds, and skips, what was already planned.

Rules:

* milestone coming up: from the last send day on or before (due date − lead days)
  until the day before it is due, to participants who have not submitted it;
* milestone due today: on the due date;
* milestone overdue: on the first send day after the due date (up to a week late), to
  the participant, their mentors (one message per mentor listing their mentees) and
  the chat webhook;
* assessment window opened / closing soon: to participants without a self-assessment
  (with their link) and mentors with mentees still to assess;
* help request unanswered: after the response target to the routed mentors, after the
  escalation time to the program managers and the webhook (any hour outside quiet
  hours, on send days);
* quiet participant: no contact for the run's check-in cadence, again every cadence;
* goal check-in: a mentor's goal without a check-in for its own cadence;
* weekly digest: on the first send day on or after the digest day, to program managers
  (run health) and to mentors (their mentees).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments.services import respondent_key
from notifications import content, links
from notifications.models import PARTICIPANT_CHANNELS, STAFF_CHANNELS, Channel, Kind
from notifications.schedule import SendingRules, iso_week_slot
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


class Planner:
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

    # --- milestones ------------------------------------------------------------------

    def _milestones(self, day, at, scheduled) -> Iterable[Planned]:
        data = self.data
        lead = self.settings.milestone_lead_days
        enrollments_of_run = defaultdict(list)
        for enrollment in data.enrollments:
            enrollment_list = enrollments_of_run[enrollment.run_id]
            enrollment_list.append(enrollment)
        for milestone in data.milestones:
            run = data.runs[milestone.run_id]
            slot = f"due:{milestone.due_on.isoformat()}"
            pending = [e for e in enrollments_of_run[run.id] if (e.id, milestone.id) not in data.finished]
            if not pending:
                continue
            due_day_reminder = self._due_day_reminder(milestone.due_on)
            if day == due_day_reminder:
                # The due-day reminder; when the due date has no sending (a public holiday,
                # a weekend) it goes out on the last send day before, worded for that day.
                kind = Kind.MILESTONE_DUE_TODAY
                if not self.enabled(kind):
                    continue
                reason = functools.partial(self._reason_due_today, milestone, day)
                for enrollment in pending:
                    yield from self._milestone_to_participants(
                        kind, enrollment, milestone, run, slot, scheduled, reason, day
                    )
            elif day < milestone.due_on:
                kind = Kind.MILESTONE_UPCOMING
                if not (lead and self.enabled(kind)) or day > due_day_reminder:
                    continue
                target = milestone.due_on - datetime.timedelta(days=lead)
                first_day = self.rules.last_send_day_on_or_before(target) or target
                if day < first_day:
                    continue
                reason = functools.partial(self._reason_upcoming, milestone, lead)
                for enrollment in pending:
                    yield from self._milestone_to_participants(
                        kind, enrollment, milestone, run, slot, scheduled, reason, day
                    )
            elif day == milestone.due_on:
                continue  # a due date without sending: its reminder went out the send day before
            elif (day - milestone.due_on).days <= OVERDUE_REMINDER_DAYS:
                yield from self._milestone_overdue(milestone, run, pending, slot, scheduled)

    def _due_day_reminder(self, due_on: datetime.date) -> datetime.date:
        """The day of a milestone's due-day reminder: the due date, or the last send day before it."""
        if self.rules.is_send_day(due_on):
            return due_on
        return self.rules.last_send_day_on_or_before(due_on) or due_on

    def _milestone_to_participants(self, kind, enrollment, milestone, run, slot, scheduled, reason, day):
        for person in self.data.people_of_enrollment.get(enrollment.id, []):
            yield self._to_person(
                person,
                kind=kind,
                subject_key=f"milestone:{milestone.id}:enrollment:{enrollment.id}",
                slot=slot,
                run_id=run.id,
                scheduled=scheduled,
                reason=reason,
                build=functools.partial(self._build_milestone, kind, milestone, run, enrollment, day),
            )

    def _build_milestone(self, kind, milestone, run, enrollment, day, person) -> content.Message:
        link = links.participant_link(enrollment, "progress")
        if kind == Kind.MILESTONE_UPCOMING:
            return content.milestone_upcoming(name=person.name, milestone=milestone, run=run, today=day, link=link)
        if kind == Kind.MILESTONE_DUE_TODAY:
            return content.milestone_due_today(name=person.name, milestone=milestone, run=run, link=link, today=day)
        return content.milestone_overdue_for_participant(name=person.name, milestone=milestone, run=run, link=link)

    def _milestone_overdue(self, milestone, run, pending, slot, scheduled):
        kind = Kind.MILESTONE_OVERDUE
        if not self.enabled(kind):
            return
        reason = functools.partial(self._reason_overdue, milestone)
        for enrollment in pending:
            yield from self._milestone_to_participants(kind, enrollment, milestone, run, slot, scheduled, reason, None)
        mentees_of_mentor: dict[int, tuple] = {}
        for enrollment in pending:
            for mentor in self.data.mentors_for(enrollment):
                mentees_of_mentor.setdefault(mentor.id, (mentor, []))[1].append(_enrollment_name(enrollment))
        for mentor, mentees in mentees_of_mentor.values():
            yield self._to_person(
                self.data.mentor_person(mentor),
                kind=kind,
                subject_key=f"milestone:{milestone.id}",
                slot=slot,
                run_id=run.id,
                scheduled=scheduled,
                reason=reason,
                build=functools.partial(self._build_overdue_for_mentor, milestone, run, mentees),
            )
        if self.webhook_wanted(kind):
            names = [_enrollment_name(e) for e in pending]
            yield self._to_webhook(
                kind=kind,
                subject_key=f"milestone:{milestone.id}",
                slot=slot,
                run_id=run.id,
                scheduled=scheduled,
                reason=reason,
                build=lambda: content.milestone_overdue_for_team(
                    milestone=milestone,
                    run=run,
                    enrollments=names,
                    link=links.admin_link("programs_run_change", run.id),
                ),
            )

    def _build_overdue_for_mentor(self, milestone, run, mentees, person) -> content.Message:
        return content.milestone_overdue_for_mentor(
            name=person.name, milestone=milestone, run=run, mentees=mentees, link=links.mentee_list_link()
        )

    def _reason_upcoming(self, milestone, lead) -> str:
        return ngettext(
            "%(milestone)s is due on %(date)s; participants are reminded %(days)d day before.",
            "%(milestone)s is due on %(date)s; participants are reminded %(days)d days before.",
            lead,
        ) % {"milestone": milestone.name, "date": content.format_day(milestone.due_on), "days": lead}

    def _reason_due_today(self, milestone, day) -> str:
        if day is not None and day < milestone.due_on:
            return _(
                "%(milestone)s is due on %(date)s, a day without reminders (a holiday or a day off); "
                "the due-day reminder goes out on the last send day before it."
            ) % {"milestone": milestone.name, "date": content.format_day(milestone.due_on)}
        return _("%(milestone)s is due today (%(date)s).") % {
            "milestone": milestone.name,
            "date": content.format_day(milestone.due_on),
        }

    def _reason_overdue(self, milestone) -> str:
        return _("%(milestone)s was due on %(date)s and is not submitted.") % {
            "milestone": milestone.name,
            "date": content.format_day(milestone.due_on),
        }

    # --- quiet participants ------------------------------------------------------------------

    def _quiet_participants(self, day, at, scheduled) -> Iterable[Planned]:
        kind = Kind.PARTICIPANT_SILENT
        if not self.enabled(kind):
            return
        for enrollment in self.data.enrollments:
            run = self.data.runs[enrollment.run_id]
            if not self._run_is_on(run, day):
                continue
            since = self._last_contact_day(enrollment, run)
            quiet_days = (day - since).days
            cadence = run.checkin_cadence_days or 7
            if quiet_days < cadence:
                continue
            # One request per full cadence of silence: "often", but never twice for the same one.
            slot = f"since:{since.isoformat()}:{quiet_days // cadence}"
            reason = functools.partial(self._reason_quiet, since, cadence)
            for person in self.data.people_of_enrollment.get(enrollment.id, []):
                yield self._to_person(
                    person,
                    kind=kind,
                    subject_key=f"enrollment:{enrollment.id}",
                    slot=slot,
                    run_id=run.id,
                    scheduled=scheduled,
                    reason=reason,
                    build=functools.partial(self._build_quiet, run, enrollment, since),
                )

    def _build_quiet(self, run, enrollment, since, person) -> content.Message:
        return content.participant_silent(
            name=person.name, run=run, since=since, link=links.participant_link(enrollment, "check_in")
        )

    def _reason_quiet(self, since, cadence) -> str:
        return ngettext(
            "No contact since %(date)s; the run asks for a check-in every %(days)d day.",
            "No contact since %(date)s; the run asks for a check-in every %(days)d days.",
            cadence,
        ) % {"date": content.format_day(since), "days": cadence}

    # --- mentors' development goals ---------------------------------------------------------

    def _goals(self, day, at, scheduled) -> Iterable[Planned]:
        kind = Kind.GOAL_CHECKIN_DUE
        if not self.enabled(kind):
            return
        for goal in self.data.goals:
            last = getattr(goal, "last_check_in_at", None) or goal.created_at
            since = self.rules.local_date(last)
            cadence = goal.checkin_cadence_days or 14
            quiet_days = (day - since).days
            if quiet_days < cadence:
                continue
            reason = functools.partial(self._reason_goal, goal.title, since, cadence)
            yield self._to_person(
                self.data.mentor_person(goal.mentor),
                kind=kind,
                subject_key=f"goal:{goal.id}",
                slot=f"since:{since.isoformat()}:{quiet_days // cadence}",
                run_id=None,
                scheduled=scheduled,
                reason=reason,
                build=functools.partial(self._build_goal, goal, since, cadence),
            )

    def _build_goal(self, goal, since, cadence, person) -> content.Message:
        return content.goal_check_in_due(
            name=person.name,
            goal_title=goal.title,
            since=since,
            cadence_days=cadence,
            link=links.goal_check_in_link(goal),
        )

    def _reason_goal(self, title, since, cadence) -> str:
        return ngettext(
            "Last check-in on “%(goal)s” was on %(date)s; the mentor asked for one every %(days)d day.",
            "Last check-in on “%(goal)s” was on %(date)s; the mentor asked for one every %(days)d days.",
            cadence,
        ) % {"goal": title, "date": content.format_day(since), "days": cadence}

    # --- assessment windows -----------------------------------------------------------------

    def _assessment_windows(self, day, at, scheduled) -> Iterable[Planned]:
        data = self.data
        lead = datetime.timedelta(days=self.settings.assessment_closing_lead_days)
        for window in data.windows:
            run = data.runs.get(window.run_id)
            if run is None or not (window.opens_at <= at < window.closes_at):
                continue
            closing = at >= window.closes_at - lead
            kind = Kind.ASSESSMENT_CLOSING if closing else Kind.ASSESSMENT_OPENED
            if not self.enabled(kind):
                continue
            closes_on = self.rules.local_date(window.closes_at)
            slot = f"closes:{closes_on.isoformat()}" if closing else f"opens:{self.rules.local_date(window.opens_at)}"
            # The label ("Post (end of the run)") is a translated choice: it is read when each
            # message is built, in its reader's language, never once for everyone.
            reason = functools.partial(self._reason_window, window, closes_on, closing)
            mentees_of_mentor: dict[int, tuple] = {}
            for enrollment in data.enrollments:
                if enrollment.run_id != run.id:
                    continue
                if (window.id, enrollment.id, "self") not in data.assessed:
                    for person in data.people_of_enrollment.get(enrollment.id, []):
                        yield self._to_person(
                            person,
                            kind=kind,
                            subject_key=f"window:{window.id}:enrollment:{enrollment.id}",
                            slot=slot,
                            run_id=run.id,
                            scheduled=scheduled,
                            reason=reason,
                            build=functools.partial(
                                self._build_window_for_participant, window, run, enrollment, closes_on, closing
                            ),
                        )
                for mentor in data.direct_mentors_of_enrollment.get(enrollment.id, []):
                    if (window.id, enrollment.id, f"mentor:{mentor.id}") not in data.assessed:
                        mentees_of_mentor.setdefault(mentor.id, (mentor, []))[1].append(_enrollment_name(enrollment))
            for mentor, mentees in mentees_of_mentor.values():
                yield self._to_person(
                    data.mentor_person(mentor),
                    kind=kind,
                    subject_key=f"window:{window.id}",
                    slot=slot,
                    run_id=run.id,
                    scheduled=scheduled,
                    reason=reason,
                    build=functools.partial(self._build_window_for_mentor, window, run, closes_on, closing, mentees),
                )

    def _build_window_for_participant(self, window, run, enrollment, closes_on, closing, person):
        return content.assessment_for_participant(
            name=person.name,
            window_label=_window_label(window),
            run=run,
            closes_on=closes_on,
            closing=closing,
            link=links.self_assessment_link(window=window, enrollment=enrollment),
        )

    def _build_window_for_mentor(self, window, run, closes_on, closing, mentees, person):
        return content.assessment_for_mentor(
            name=person.name,
            window_label=_window_label(window),
            run=run,
            closes_on=closes_on,
            closing=closing,
            mentees=mentees,
            link=links.mentor_assessments_link(),
        )

    def _reason_window(self, window, closes_on, closing) -> str:
        values = {"window": _window_label(window), "date": content.format_day(closes_on)}
        if closing:
            return _("The %(window)s window closes on %(date)s; this assessment is still missing.") % values
        return _("The %(window)s window is open until %(date)s; this assessment is still missing.") % values

    # --- help requests ---------------------------------------------------------------------

    def _help_requests(self, until: datetime.datetime) -> Iterable[Planned]:
        data = self.data
        response = datetime.timedelta(hours=self.settings.help_request_response_hours)
        escalation = datetime.timedelta(hours=self.settings.help_request_escalation_hours)
        for help_request in data.help_requests:
            enrollment = help_request.enrollment
            run = data.runs.get(enrollment.run_id)
            if run is None:
                continue
            who = _enrollment_name(enrollment)
            mentors = data.mentors_for(enrollment)
            subject_key = f"help_request:{help_request.id}"
            trigger = help_request.created_at + response
            kind = Kind.HELP_REQUEST_UNANSWERED
            if trigger <= until and self.enabled(kind) and mentors:
                scheduled = self.rules.next_allowed_moment(trigger)
                hours = self.settings.help_request_response_hours
                reason = functools.partial(self._reason_help, hours)
                for mentor in mentors:
                    yield self._to_person(
                        data.mentor_person(mentor),
                        kind=kind,
                        subject_key=subject_key,
                        slot="unanswered",
                        run_id=run.id,
                        scheduled=scheduled,
                        reason=reason,
                        build=functools.partial(self._build_help_for_mentor, help_request, who, hours),
                    )
            trigger = help_request.created_at + escalation
            kind = Kind.HELP_REQUEST_ESCALATED
            if trigger <= until and self.enabled(kind):
                scheduled = self.rules.next_allowed_moment(trigger)
                hours = self.settings.help_request_escalation_hours
                reason = functools.partial(self._reason_help, hours)
                mentor_names = [str(m.user) for m in mentors]
                build = functools.partial(self._build_help_escalated, help_request, who, run, hours, mentor_names)
                for person in data.program_managers:
                    yield self._to_person(
                        person,
                        kind=kind,
                        subject_key=subject_key,
                        slot="escalated",
                        run_id=run.id,
                        scheduled=scheduled,
                        reason=reason,
                        build=build,
                    )
                if self.webhook_wanted(kind):
                    yield self._to_webhook(
                        kind=kind,
                        subject_key=subject_key,
                        slot="escalated",
                        run_id=run.id,
                        scheduled=scheduled,
                        reason=reason,
                        build=functools.partial(build, None),
                    )

    def _build_help_for_mentor(self, help_request, who, hours, person) -> content.Message:
        return content.help_request_unanswered(
            name=person.name,
            help_request=help_request,
            who=who,
            hours=hours,
            link=links.help_request_reply_link(help_request),
        )

    def _build_help_escalated(self, help_request, who, run, hours, mentor_names, person) -> content.Message:
        return content.help_request_escalated(
            name=person.name if person else "",
            help_request=help_request,
            who=who,
            run=run,
            hours=hours,
            mentors=mentor_names,
            link=links.admin_link("programs_helprequest_change", help_request.id),
        )

    def _reason_help(self, hours) -> str:
        return ngettext(
            "Unanswered %(hours)d hour after it was asked.",
            "Unanswered %(hours)d hours after it was asked.",
            hours,
        ) % {"hours": hours}

    # --- weekly digests -----------------------------------------------------------------------

    def _digests(self, day, at, scheduled) -> Iterable[Planned]:
        if day.isoweekday() < self.settings.digest_weekday or not self.data.runs:
            return
        slot = iso_week_slot(day)
        week_of = day - datetime.timedelta(days=day.isoweekday() - 1)
        kind = Kind.DIGEST_PM
        if self.enabled(kind):
            health = self._run_health(day)
            reason = functools.partial(self._reason_digest)
            build = functools.partial(self._build_pm_digest, week_of, health)
            for person in self.data.program_managers:
                yield self._to_person(
                    person,
                    kind=kind,
                    subject_key=f"organization:{self.organization.id}",
                    slot=slot,
                    run_id=None,
                    scheduled=scheduled,
                    reason=reason,
                    build=build,
                )
            if self.webhook_wanted(kind):
                yield self._to_webhook(
                    kind=kind,
                    subject_key=f"organization:{self.organization.id}",
                    slot=slot,
                    run_id=None,
                    scheduled=scheduled,
                    reason=reason,
                    build=functools.partial(build, None),
                )
        kind = Kind.DIGEST_MENTOR
        if self.enabled(kind):
            for mentor, mentees in self._mentees_health(day):
                yield self._to_person(
                    self.data.mentor_person(mentor),
                    kind=kind,
                    subject_key=f"mentor:{mentor.id}",
                    slot=slot,
                    run_id=None,
                    scheduled=scheduled,
                    reason=functools.partial(self._reason_digest),
                    build=functools.partial(self._build_mentor_digest, week_of, mentees),
                )

    def _overdue_by_enrollment(self, day) -> dict[int, list]:
        overdue = defaultdict(list)
        for milestone in self.data.milestones:
            if milestone.due_on >= day:
                continue
            for enrollment in self.data.enrollments:
                if enrollment.run_id == milestone.run_id and (enrollment.id, milestone.id) not in self.data.finished:
                    overdue[enrollment.id].append(milestone)
        return overdue

    def _is_quiet(self, enrollment, day) -> bool:
        run = self.data.runs[enrollment.run_id]
        return self._run_is_on(run, day) and (day - self._last_contact_day(enrollment, run)).days >= (
            run.checkin_cadence_days or 7
        )

    def _run_health(self, day) -> list[tuple]:
        overdue = self._overdue_by_enrollment(day)
        health = []
        for run in sorted(self.data.runs.values(), key=lambda r: (r.final_deadline, r.id)):
            enrollments = [e for e in self.data.enrollments if e.run_id == run.id]
            late_count = defaultdict(int)
            milestones = {}
            for enrollment in enrollments:
                for milestone in overdue.get(enrollment.id, []):
                    late_count[milestone.id] += 1
                    milestones[milestone.id] = milestone
            open_requests = sum(1 for h in self.data.help_requests if h.enrollment.run_id == run.id)
            quiet = [_enrollment_name(e) for e in enrollments if self._is_quiet(e, day)]
            health.append((run, [(milestones[mid], count) for mid, count in late_count.items()], open_requests, quiet))
        return health

    def _build_pm_digest(self, week_of, health, person) -> content.Message:
        runs = [
            content.RunHealth(
                run_name=run.name,
                overdue=[
                    ngettext("%(milestone)s (%(count)d enrollment)", "%(milestone)s (%(count)d enrollments)", count)
                    % {"milestone": milestone.name, "count": count}
                    for milestone, count in overdue
                ],
                open_help_requests=open_requests,
                quiet=quiet,
            )
            for run, overdue, open_requests, quiet in health
        ]
        return content.digest_for_program_managers(
            name=person.name if person else "",
            organization_name=self.organization.name,
            week_of=week_of,
            runs=runs,
            link=links.admin_link("notifications_notification_changelist"),
        )

    def _mentees_health(self, day) -> list[tuple]:
        overdue = self._overdue_by_enrollment(day)
        open_requests = defaultdict(int)
        for help_request in self.data.help_requests:
            open_requests[help_request.enrollment_id] += 1
        mentees_of_mentor: dict[int, tuple] = {}
        for enrollment in self.data.enrollments:
            run = self.data.runs[enrollment.run_id]
            for mentor in self.data.direct_mentors_of_enrollment.get(enrollment.id, []):
                mentees_of_mentor.setdefault(mentor.id, (mentor, []))[1].append(
                    content.MenteeHealth(
                        name=_enrollment_name(enrollment),
                        run_name=run.name,
                        overdue=[m.name for m in overdue.get(enrollment.id, [])],
                        open_help_requests=open_requests[enrollment.id],
                        last_contact=self._last_contact_day(enrollment, run),
                    )
                )
        return list(mentees_of_mentor.values())

    def _build_mentor_digest(self, week_of, mentees, person) -> content.Message:
        return content.digest_for_mentor(
            name=person.name, week_of=week_of, mentees=mentees, link=links.mentee_list_link()
        )

    def _reason_digest(self) -> str:
        return _("Weekly, on the first send day on or after the digest day.")

    # --- the participant's side: messages of a moment ----------------------------------------
    #
    # Planned whenever planning runs (beat, and at once after the event through
    # services.notifications_plan_soon), at the first allowed moment after the event.

    def _recent(self, moment: datetime.datetime) -> bool:
        """Not older than a week: a planner that was down still sends, a new rule does not mail the past."""
        from notifications.selectors import RECENT_MESSAGE_DAYS

        return self.rules.local_date(moment) >= self.data.today - datetime.timedelta(days=RECENT_MESSAGE_DAYS)

    def _welcomes(self, until: datetime.datetime) -> Iterable[Planned]:
        kind = Kind.WELCOME
        if not self.enabled(kind):
            return
        for enrollment in self.data.enrollments:
            run = self.data.runs[enrollment.run_id]
            started = datetime.datetime.combine(run.starts_on, datetime.time(), tzinfo=self.rules.zone)
            trigger = max(enrollment.created_at, started)
            if trigger > until or not self._recent(trigger):
                continue
            reason = functools.partial(self._reason_welcome, run)
            for person in self.data.people_of_enrollment.get(enrollment.id, []):
                yield self._to_person(
                    person,
                    kind=kind,
                    subject_key=f"enrollment:{enrollment.id}",
                    slot="welcome",
                    run_id=run.id,
                    scheduled=self.rules.next_allowed_moment(trigger),
                    reason=reason,
                    build=functools.partial(self._build_welcome, run, enrollment),
                )

    def _build_welcome(self, run, enrollment, person) -> content.Message:
        return content.welcome(name=person.name, run=run, link=links.participant_link(enrollment, "home"))

    def _reason_welcome(self, run) -> str:
        return _("Enrolled in %(run)s, which started on %(date)s.") % {
            "run": run.name,
            "date": content.format_day(run.starts_on),
        }

    def _help_requests_new(self, until: datetime.datetime) -> Iterable[Planned]:
        kind = Kind.HELP_REQUEST_NEW
        if not self.enabled(kind):
            return
        data = self.data
        now = self.now or until
        response = datetime.timedelta(hours=self.settings.help_request_response_hours)
        for help_request in data.help_requests:
            # Until the response target passes; then "unanswered" takes over.
            if help_request.created_at > until or now >= help_request.created_at + response:
                continue
            enrollment = help_request.enrollment
            run = data.runs.get(enrollment.run_id)
            if run is None:
                continue
            who = _enrollment_name(enrollment)
            subject_key = f"help_request:{help_request.id}"
            scheduled = self.rules.next_allowed_moment(help_request.created_at)
            reason = self._reason_help_new
            for mentor in data.mentors_for(enrollment):
                yield self._to_person(
                    data.mentor_person(mentor),
                    kind=kind,
                    subject_key=subject_key,
                    slot="new",
                    run_id=run.id,
                    scheduled=scheduled,
                    reason=reason,
                    build=functools.partial(self._build_help_new, help_request, who, run),
                )
            if self.webhook_wanted(kind):
                yield self._to_webhook(
                    kind=kind,
                    subject_key=subject_key,
                    slot="new",
                    run_id=run.id,
                    scheduled=scheduled,
                    reason=reason,
                    build=functools.partial(self._build_help_new_for_team, help_request, who, run),
                )

    def _build_help_new(self, help_request, who, run, person) -> content.Message:
        return content.help_request_new(
            name=person.name,
            help_request=help_request,
            who=who,
            run=run,
            link=links.help_request_reply_link(help_request),
        )

    def _build_help_new_for_team(self, help_request, who, run) -> content.Message:
        return content.help_request_new(
            name="",
            help_request=help_request,
            who=who,
            run=run,
            link=links.admin_link("programs_helprequest_change", help_request.id),
        )

    def _reason_help_new(self) -> str:
        return _("A new help request: its mentors hear of it at once.")

    def _help_replies(self, until: datetime.datetime) -> Iterable[Planned]:
        kind = Kind.HELP_REQUEST_REPLY
        if not self.enabled(kind):
            return
        enrollments = {e.id: e for e in self.data.enrollments}
        for reply in self.data.replies:
            if reply.created_at > until or not self._recent(reply.created_at):
                continue
            enrollment = enrollments.get(reply.help_request.enrollment_id)
            if enrollment is None:  # no longer active, or its run is not
                continue
            for person in self.data.people_of_enrollment.get(enrollment.id, []):
                yield self._to_person(
                    person,
                    kind=kind,
                    subject_key=f"help_reply:{reply.id}",
                    slot="reply",
                    run_id=enrollment.run_id,
                    scheduled=self.rules.next_allowed_moment(reply.created_at),
                    reason=self._reason_help_reply,
                    build=functools.partial(self._build_help_reply, reply, enrollment),
                )

    def _build_help_reply(self, reply, enrollment, person) -> content.Message:
        author = reply.mentor.user if reply.mentor_id and reply.mentor else reply.author
        answered_by = (author.name or author.email) if author else _("Your mentor")
        return content.help_request_answered(
            name=person.name,
            help_request=reply.help_request,
            answered_by=answered_by,
            body=reply.body,
            link=links.participant_link(enrollment, "home"),
        )

    def _reason_help_reply(self) -> str:
        return _("The participant's help request was answered.")

    # --- value-gap surveys -----------------------------------------------------------------

    def _surveys(self, until: datetime.datetime) -> Iterable[Planned]:
        data = self.data
        now = self.now or until
        lead = datetime.timedelta(days=self.settings.survey_reminder_lead_days)
        for survey in data.surveys:
            if survey.opens_at > until or now >= survey.closes_at:
                continue
            reminder_at = survey.closes_at - lead
            reminding = reminder_at <= until and reminder_at > survey.opens_at
            kind = Kind.SURVEY_REMINDER if reminding else Kind.SURVEY_INVITATION
            if not self.enabled(kind):
                continue
            closes_on = self.rules.local_date(survey.closes_at - datetime.timedelta(microseconds=1))
            if reminding:
                slot, scheduled = f"closes:{closes_on.isoformat()}", self.rules.next_allowed_moment(reminder_at)
            else:
                opens_on = self.rules.local_date(survey.opens_at)
                slot, scheduled = f"opens:{opens_on.isoformat()}", self.rules.next_allowed_moment(survey.opens_at)
            reason = functools.partial(self._reason_survey, survey, closes_on, reminding)
            if survey.run_id:
                run_ids = [survey.run_id]
            else:
                run_ids = [r.id for r in data.runs.values() if r.program_id == survey.program_id]
            if survey.ask_participants:
                for enrollment in data.enrollments:
                    if enrollment.run_id not in run_ids:
                        continue
                    if (survey.id, respondent_key(survey=survey, enrollment=enrollment)) in data.survey_answered:
                        continue
                    for person in data.people_of_enrollment.get(enrollment.id, []):
                        yield self._to_person(
                            person,
                            kind=kind,
                            subject_key=f"survey:{survey.id}:enrollment:{enrollment.id}",
                            slot=slot,
                            run_id=enrollment.run_id,
                            scheduled=scheduled,
                            reason=reason,
                            build=functools.partial(
                                self._build_survey, survey, closes_on, reminding, {"enrollment": enrollment}
                            ),
                        )
            if survey.ask_mentors:
                mentors = {}
                for run_id in run_ids:
                    mentors.update(data.mentors_of_run.get(run_id, {}))
                for mentor in mentors.values():
                    if (survey.id, respondent_key(survey=survey, mentor=mentor)) in data.survey_answered:
                        continue
                    yield self._to_person(
                        data.mentor_person(mentor),
                        kind=kind,
                        subject_key=f"survey:{survey.id}:mentor:{mentor.id}",
                        slot=slot,
                        run_id=survey.run_id,
                        scheduled=scheduled,
                        reason=reason,
                        build=functools.partial(self._build_survey, survey, closes_on, reminding, {"mentor": mentor}),
                    )

    def _build_survey(self, survey, closes_on, reminding, respondent, person) -> content.Message:
        return content.survey_invitation(
            name=person.name,
            survey=survey,
            closes_on=closes_on,
            reminder=reminding,
            link=links.survey_link(survey=survey, **respondent),
        )

    def _reason_survey(self, survey, closes_on, reminding) -> str:
        values = {"survey": survey.title, "date": content.format_day(closes_on)}
        if reminding:
            return _("“%(survey)s” closes on %(date)s and this person has not answered yet.") % values
        return _("“%(survey)s” is open until %(date)s.") % values
