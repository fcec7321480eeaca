"""Domain events for integrations (webhooks).

Services call :func:`event_emit` after a change that integrators care about. The
webhook outbox (issue #8) records one delivery per subscription; until then this is
a no-op hook point so that call sites already exist.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPES = (
    "enrollment.created",
    "enrollment.updated",
    "milestone.completed",
    "milestone.overdue",
    "check_in.created",
    "help_request.created",
    "help_request.answered",
    "assessment.submitted",
    "mentor_goal.updated",
)


def event_emit(*, organization, event: str, payload: dict[str, Any]) -> None:
    if event not in EVENT_TYPES:
        raise ValueError(f"Unknown event type: {event}")
