"""Reminder rules: the participant's side, messages of a moment: welcome, a new help request, an answer."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable

from django.utils.translation import gettext as _

from notifications import content, links
from notifications.models import Kind
from notifications.planning.base import Planned, _enrollment_name


class MomentRules:
    """The participant's side, messages of a moment: welcome, a new help request, an answer."""

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
