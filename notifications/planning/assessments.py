"""Reminder rules: assessment windows opened and closing; value-gap survey invitations and reminders."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable

from django.utils.translation import gettext as _

from assessments.services import respondent_key
from notifications import content, links
from notifications.models import Kind
from notifications.planning.base import Planned, _enrollment_name, _window_label


class AssessmentRules:
    """Assessment windows opened and closing; value-gap survey invitations and reminders."""

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
