"""Domain events for integrations (webhooks).

Services call :func:`event_emit` after a change that integrators care about, inside
their transaction. The webhook outbox (``integrations``) records one delivery per
subscription that wants the event, in that same transaction, and hands each to
Celery once it commits: a rolled-back change sends nothing. ``payload`` must be
JSON-serialisable (dates, decimals and UUIDs are fine); it becomes the ``data`` of
the Standard Webhooks envelope ``{"type", "timestamp", "data"}``.
"""

from __future__ import annotations

from collections.abc import Callable
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


# The webhook outbox lives in ``integrations``, which registers it at start-up
# (``IntegrationsConfig.ready``): core imports no app. Without one, events go nowhere.
_record: Callable[..., None] | None = None
_subscribed: Callable[..., object] | None = None


def register_event_sink(*, record: Callable[..., None], subscriptions: Callable[..., object]) -> None:
    """``record(organization=, event=, payload=)`` keeps an event.

    ``subscriptions(organization=, event=)`` says whether anyone wants it.
    """
    global _record, _subscribed
    _record, _subscribed = record, subscriptions


def event_emit(*, organization, event: str, payload: dict[str, Any]) -> None:
    if event not in EVENT_TYPES:
        raise ValueError(f"Unknown event type: {event}")
    if _record is not None:
        _record(organization=organization, event=event, payload=payload)


def events_subscribed(*, organization, events) -> set[str]:
    """Which of ``events`` at least one active subscription of the organization wants.

    For bulk writes (the participant import): ask once, before the loop, and skip
    :func:`event_emit` for events nobody listens to, instead of one subscription
    lookup per row. One query per event type, whatever the number of rows.
    """
    unknown = set(events) - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"Unknown event types: {sorted(unknown)}")
    if _subscribed is None:
        return set()
    return {event for event in events if _subscribed(organization=organization, event=event)}
