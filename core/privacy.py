"""The registry of personal data: each app says what it holds about a person, and how to erase it.

Data-subject requests (the ``privacy`` app) need everything about one person across the
organization. No central module knows every app, so each app contributes through a small
hook module ``<app>/privacy.py`` that the ``privacy`` app imports at start-up
(``autodiscover_modules("privacy")``, as the admin does with ``admin.py``). A hook module
registers, with the decorators below:

* ``@identifiers``: ``fn(subject) -> Identity`` adds the names, emails and phones under
  which the person appears (the participant's row, the user account). The erasure sweep
  looks for them in every text column of the organization;
* ``@exporter(key, title)``: ``fn(subject) -> list[dict]``, the rows of that part of the
  access export (JSON-ready values);
* ``@eraser(key)``: ``fn(subject, placeholder) -> int``, anonymises what the app holds
  about the person (identity columns and free text the person wrote), keeping counts,
  levels, scores, statuses and dates; returns the number of rows changed. Erasers must
  write with ``QuerySet.update()``: a ``save()`` would write an audit event that records
  the old identity;
* erasers leave ``updated_at`` alone: reports read timestamps (a progress row's time of completion);
* ``identity_column(model_label, field)``: a column that names *a* person (a participant's
  ``name``): the generic sweep leaves it alone, so that another person of the same name in
  the same organization keeps theirs; the app's eraser handles the person's own row.

This module imports no app: new apps (office hours, matching, channel preferences) add
their own hook module and are exported and erased with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PARTICIPANT = "participant"
USER = "user"


@dataclass
class Identity:
    names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def merge(self, other: Identity | None) -> None:
        if other is None:
            return
        self.names |= {n.strip() for n in other.names if n and n.strip()}
        self.emails |= {e.strip().lower() for e in other.emails if e and e.strip()}
        self.phones |= {p.strip() for p in other.phones if p and p.strip()}

    def needles(self) -> list[str]:
        """The strings the sweep looks for: longest first, so that an email goes before the name in it."""
        found = set(self.emails)
        for phone in self.phones:
            found.add(phone)
            digits = "".join(ch for ch in phone if ch.isdigit())
            if len(digits) >= 7:
                found.add(digits)
        # A one-letter name would match everywhere; such a name is only erased in its own columns.
        found |= {name for name in self.names if len(name) >= 2}
        return sorted(found, key=lambda s: (-len(s), s))


@dataclass
class Subject:
    """The person of a data-subject request: a participant, or a user (mentor, staff) of the organization."""

    organization: object
    kind: str
    pk: int
    identity: Identity = field(default_factory=Identity)

    @property
    def is_participant(self) -> bool:
        return self.kind == PARTICIPANT

    @property
    def is_user(self) -> bool:
        return self.kind == USER


@dataclass(frozen=True)
class Part:
    key: str
    title: object  # a lazy translation
    export: Callable[[Subject], list[dict]]


_identifiers: list[Callable[[Subject], Identity | None]] = []
_exporters: dict[str, Part] = {}
_erasers: dict[str, Callable[[Subject, str], int]] = {}
_identity_columns: set[tuple[str, str]] = set()


def identifiers(func):
    if func not in _identifiers:
        _identifiers.append(func)
    return func


def exporter(key: str, title):
    def decorator(func):
        _exporters[key] = Part(key=key, title=title, export=func)
        return func

    return decorator


def eraser(key: str):
    def decorator(func):
        _erasers[key] = func
        return func

    return decorator


def identity_column(model_label: str, field_name: str) -> None:
    _identity_columns.add((model_label, field_name))


def identity_of(subject: Subject) -> Identity:
    identity = Identity()
    for func in _identifiers:
        identity.merge(func(subject))
    return identity


def export_parts() -> list[Part]:
    return list(_exporters.values())


def erasers() -> dict[str, Callable[[Subject, str], int]]:
    return dict(_erasers)


def identity_columns() -> frozenset[tuple[str, str]]:
    return frozenset(_identity_columns)
