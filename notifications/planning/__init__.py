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

from notifications.planning.assessments import AssessmentRules
from notifications.planning.base import (
    EMAIL_ONLY_KINDS,
    OVERDUE_REMINDER_DAYS,
    PREVIEW_DAYS,
    WEBHOOK,
    Planned,
    PlannerBase,
)
from notifications.planning.digests import DigestRules
from notifications.planning.goals import GoalRules
from notifications.planning.help_requests import HelpRequestRules
from notifications.planning.milestones import MilestoneRules
from notifications.planning.moments import MomentRules

__all__ = ["EMAIL_ONLY_KINDS", "OVERDUE_REMINDER_DAYS", "PREVIEW_DAYS", "WEBHOOK", "Planned", "Planner"]


class Planner(MilestoneRules, GoalRules, AssessmentRules, HelpRequestRules, DigestRules, MomentRules, PlannerBase):
    """Every rule over one organization's :class:`~notifications.selectors.PlanningData` (one mixin per family)."""
