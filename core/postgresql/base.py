"""Django's PostgreSQL backend, reading ``timestamptz`` columns with psycopg's C loader.

Django registers a loader of its own for ``timestamptz`` (``BaseTzLoader``): it subclasses
psycopg's pure-Python loader to put the connection's zone on every value. With psycopg's
C implementation installed (``psycopg[binary]``) that costs about 3.4 µs a value against
0.2 µs for the C loader, and a page of 100 enrollments reads 300 timestamps
(docs/performance.md).

The C loader answers the same instants: PostgreSQL sends each value in the session's
``TimeZone``, which Django sets to the connection's zone when it connects, and for UTC the
C loader attaches ``datetime.timezone.utc``, as Django's does. So it is used exactly when
that holds: ``USE_TZ`` on, the connection's zone UTC (Django's default; a ``TIME_ZONE``
in the database settings keeps Django's loader), and the C implementation present.
Everything else is Django's backend unchanged.
"""

from __future__ import annotations

import datetime

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg.pq import Format

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid


def _c_loader():
    """psycopg's C loader of ``timestamptz`` text, or None without the C implementation."""
    loader = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    return loader if psycopg.pq.__impl__ in ("c", "binary") and loader.__module__.endswith("_psycopg") else None


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        loader = self._timestamptz_loader
        if loader is not None:
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, loader)
        return cursor

    @property
    def _timestamptz_loader(self):
        # Read per cursor, not cached: tests switch USE_TZ and the database zone.
        if not settings.USE_TZ or self.timezone is not datetime.UTC:
            return None
        return _C_LOADER


_C_LOADER = _c_loader()
