"""Reminder rules: help requests unanswered: to the routed mentors, then escalated to program managers."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable

from django.utils.translation import ngettext

from notifications import content, links
from notifications.models import Kind
from notifications.planning.base import Planned, _enrollment_name


class HelpRequestRules:
    """Help requests unanswered: to the routed mentors, then escalated to program managers."""

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
