"""Reminder rules: mentors' development goals that wait for a check-in."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.utils.translation import ngettext

from notifications import content, links
from notifications.models import Kind
from notifications.planning.base import Planned


class GoalRules:
    """Mentors' development goals that wait for a check-in."""

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
