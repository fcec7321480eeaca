"""Domain events for integrations (webhooks).

Services call :func:`event_emit` after a change that integrators care about, inside
their transaction. The webhook outbox (``integrations``) records one delivery per
subscription that wants the event, in that same transaction, and hands each to
Celery once it commits: a rolled-back change sends nothing. ``payload`` must be
JSON-serialisable (dates, decimals and UUIDs are fine); it becomes the ``data`` of
the Standard Webhooks envelope ``{"type", "timestamp", "data"}``.
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
    from integrations.services import webhook_event_record  # the outbox lives in integrations

    webhook_event_record(organization=organization, event=event, payload=payload)


def events_subscribed(*, organization, events) -> set[str]:
    """Which of ``events`` at least one active subscription of the organization wants.

    For bulk writes (the participant import): ask once, before the loop, and skip
    :func:`event_emit` for events nobody listens to, instead of one subscription
    lookup per row. One query per event type, whatever the number of rows.
    """
    from integrations.selectors import webhook_subscriptions_for_event

    unknown = set(events) - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"Unknown event types: {sorted(unknown)}")
    return {event for event in events if webhook_subscriptions_for_event(organization=organization, event=event)}
