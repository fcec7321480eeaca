"""The platform's PostgreSQL backend (``core.postgresql``): timestamps read by psycopg's C loader.

Each test reads the same values once through the backend and once through Django's own
``timestamptz`` loader on the same connection, and compares instants and zones.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.test import override_settings

from core.postgresql.base import TIMESTAMPTZ_OID

pytestmark = pytest.mark.django_db

VALUES = """
SELECT v FROM (VALUES
    (timestamptz '2026-12-01 09:00:00+09'),
    (timestamptz '2026-12-01 23:59:59.999999+00'),
    (timestamptz '2024-02-29 12:30:00.5-03:30'),
    (timestamptz '1999-12-31 15:00:00.000001+00'),
    (NULL::timestamptz)
) AS t(v)
"""


def _read(django_loader: bool) -> list:
    with connection.cursor() as cursor:
        if django_loader:
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(VALUES)
        return [row[0] for row in cursor.fetchall()]


def test_the_c_loader_reads_the_instants_and_zone_django_reads(postgres):
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, 0)
    assert loader.__module__.endswith("_psycopg"), loader  # psycopg[binary] is what requirements.txt pins

    ours, djangos = _read(django_loader=False), _read(django_loader=True)

    assert ours == djangos
    assert ours[0] == datetime.datetime(2026, 12, 1, 0, 0, tzinfo=datetime.UTC)
    assert ours[2].microsecond == 500000 and ours[3].microsecond == 1
    assert ours[-1] is None
    assert {value.tzinfo for value in ours[:-1]} == {datetime.UTC}


def test_the_orm_round_trips_aware_datetimes(postgres):
    moment = datetime.datetime(2026, 3, 1, 8, 15, 30, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=9)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [moment])
        (read,) = cursor.fetchone()
    assert read == moment and read.tzinfo is datetime.UTC


@override_settings(USE_TZ=False)
def test_without_use_tz_django_s_loader_stays(postgres):
    assert connection._timestamptz_loader is None
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, 0)
    assert not loader.__module__.endswith("_psycopg")
