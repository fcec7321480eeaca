"""``app_rfc3339(timestamptz, zone)``: a datetime as the API writes it, formatted by PostgreSQL.

The API's lean list path (core/api/lean.py) reads datetime columns through it, so a page of
rows arrives as text instead of being parsed by psycopg and formatted again in Python. The
answer is the one of ``core.api.serializers.RFC3339DateTimeField`` (tests/core/test_api_lean.py
compares both): the local time in ``zone``, microseconds only when there are any, the offset
as ``+HH:MM`` and ``Z`` for a zero offset; an offset with seconds (historic local mean time)
is answered in UTC.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION app_rfc3339(value timestamptz, zone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        WHEN parts.offset_seconds % 60 <> 0 THEN app_rfc3339(value, 'UTC')
        ELSE to_char(parts.local, 'YYYY-MM-DD"T"HH24:MI:SS')
            || CASE WHEN EXTRACT(MICROSECONDS FROM parts.local)::bigint % 1000000 <> 0
                    THEN to_char(parts.local, '.US') ELSE '' END
            || CASE WHEN parts.offset_seconds = 0 THEN 'Z'
                    ELSE CASE WHEN parts.offset_seconds < 0 THEN '-' ELSE '+' END
                         || lpad((abs(parts.offset_seconds) / 3600)::text, 2, '0') || ':'
                         || lpad((abs(parts.offset_seconds) % 3600 / 60)::text, 2, '0') END
    END
    FROM (
        SELECT value AT TIME ZONE zone AS local,
               EXTRACT(EPOCH FROM (value AT TIME ZONE zone) - (value AT TIME ZONE 'UTC'))::bigint AS offset_seconds
    ) AS parts
$$
"""
DROP = "DROP FUNCTION IF EXISTS app_rfc3339(timestamptz, text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_organization_require_sso"),
    ]

    operations = [migrations.RunPython(create, drop)]
