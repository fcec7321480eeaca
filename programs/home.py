"""The participant's home page is built from parts; the apps that own them add them.

``programs`` owns the page (milestones, check-ins, help requests); assessments (open
self-assessments and surveys), mentors (sessions to rate) and office hours (upcoming
bookings) register a reader for their part at start-up (their ``AppConfig.ready``), so
``programs`` imports none of them. A part nobody registered is empty.
"""

from __future__ import annotations

from collections.abc import Callable

#: The parts the page knows, in the order it shows them.
PARTS = ("self_assessments", "surveys", "ratings_pending", "office_hours")

_readers: dict[str, Callable[..., list]] = {}


def register_home_part(name: str, reader: Callable[..., list]) -> None:
    """``reader(*, organization, enrollment, now)`` returns the part's items (a fixed number of queries)."""
    if name not in PARTS:
        raise ValueError(f"unknown part of the participant's home: {name!r} (one of {PARTS})")
    _readers[name] = reader


def home_parts(*, organization, enrollment, now) -> dict[str, list]:
    return {
        name: list(_readers[name](organization=organization, enrollment=enrollment, now=now))
        if name in _readers
        else []
        for name in PARTS
    }
