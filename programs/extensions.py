"""Where other apps add to the pages ``programs`` owns, so that ``programs`` imports none of them.

* The participant's home is built from parts: assessments (open self-assessments and
  surveys), mentors (sessions to rate) and office hours (upcoming bookings) register a reader
  for theirs. A part nobody registered is empty.
* The run dashboard in the admin shows what other apps know of the run: the reminders'
  delivery health (notifications).
* The lost-link page hands the address to whoever sends messages (notifications: a fresh
  home link through the outbox).

Apps register at start-up, in their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable

#: The parts the participant's home knows, in the order it shows them.
PARTS = ("self_assessments", "surveys", "ratings_pending", "office_hours")

_readers: dict[str, Callable[..., list]] = {}
_dashboard_parts: dict[str, Callable[..., object]] = {}
_lost_link_senders: list[Callable[..., object]] = []


def register_home_part(name: str, reader: Callable[..., list]) -> None:
    """``reader(*, organization, enrollment, now)`` returns the part's items (a fixed number of queries)."""
    if name not in PARTS:
        raise ValueError(f"unknown part of the participant's home: {name!r} (one of {PARTS})")
    _readers[name] = reader


def home_parts(*, organization, enrollment, now) -> dict[str, list]:
    parts = {}
    for name in PARTS:
        reader = _readers.get(name)
        parts[name] = list(reader(organization=organization, enrollment=enrollment, now=now)) if reader else []
    return parts


def register_dashboard_part(name: str, reader: Callable[..., object]) -> None:
    """``reader(*, organization, run)``: put into the run dashboard's template context as ``name``."""
    _dashboard_parts[name] = reader


def dashboard_parts(*, organization, run) -> dict[str, object]:
    return {name: reader(organization=organization, run=run) for name, reader in _dashboard_parts.items()}


def register_lost_link_sender(sender: Callable[..., object]) -> None:
    """``sender(*, organization, email)`` mails a fresh link to the enrollments of that address, if any."""
    if sender not in _lost_link_senders:
        _lost_link_senders.append(sender)


def lost_link_send(*, organization, email: str) -> None:
    for sender in _lost_link_senders:
        sender(organization=organization, email=email)
