"""Reminder rules: milestones coming up, due and overdue; participants gone quiet."""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications import content, links
from notifications.models import Kind
from notifications.planning.base import OVERDUE_REMINDER_DAYS, Planned, _enrollment_name


class MilestoneRules:
    """Milestones coming up, due and overdue; participants gone quiet."""

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
