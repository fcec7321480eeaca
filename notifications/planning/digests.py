"""Reminder rules: weekly digests: run health for program managers, mentees for mentors."""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications import content, links
from notifications.models import Kind
from notifications.planning.base import Planned, _enrollment_name
from notifications.schedule import iso_week_slot


class DigestRules:
    """Weekly digests: run health for program managers, mentees for mentors."""

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
