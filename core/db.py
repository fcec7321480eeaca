"""Database helpers shared by the apps' bulk writers (PostgreSQL, psycopg 3)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from django.db import connections, models, router


def server_binding_cursor(connection):
    """A cursor of ``connection`` (PostgreSQL, psycopg 3) that binds parameters server-side.

    Django's cursors bind client-side: every value, also each element of a large array,
    is quoted into the SQL text in Python. Bulk writes (:func:`insert_columns`) send their
    arrays as parameters instead, in binary with ``%b``.
    Wrapped like Django's own cursors, so that query logging (``CaptureQueriesContext``),
    execute wrappers and error translation see the statement; it prepares nothing that
    outlives the statement (PgBouncer in transaction pooling, docs/scaling.md).
    """
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def insert_columns(
    model,
    fields: Sequence[models.Field],
    columns: Sequence[list],
    *,
    batch_size: int,
    ignore_conflicts: bool = False,
) -> list:
    """INSERT rows given column by column; return the new rows' primary keys, in order.

    ``columns[i]`` holds the values of ``fields[i]`` (attribute values: ids for foreign
    keys, Python objects for JSON fields, which are serialised with the field's encoder).
    One ``INSERT ... SELECT FROM unnest(%b::type[], ...) RETURNING pk`` per batch, its
    arrays bound server-side in binary: Django's ``bulk_create`` quotes each value into
    the SQL text in Python, which costs more than the database's work for wide rows (the
    participant import, the audit trail of a bulk write, reminder planning). It is an
    ordinary ``INSERT``: row-level security and the table's checks apply (PostgreSQL
    allows no ``COPY FROM`` under row-level security). Text goes as ``varchar[]`` without
    a length, so an over-long value is refused, not cut. ``ignore_conflicts``: ``ON
    CONFLICT DO NOTHING``, and only the rows this statement inserted are returned.
    Defaults, timestamps and validation are the caller's. PostgreSQL only: the callers
    keep Django's bulk path for SQLite.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        raise NotImplementedError("insert_columns is PostgreSQL's; use bulk_create elsewhere")
    if len(fields) != len(columns):
        raise ValueError("one column of values per field")
    count = len(columns[0]) if columns else 0
    if any(len(values) != count for values in columns):
        raise ValueError("columns of different lengths")
    if not count:
        return []
    placeholders, selects, prepared = [], [], []
    for position, (field, values) in enumerate(zip(fields, columns, strict=True)):
        if isinstance(field, models.JSONField):
            placeholders.append("%b::text[]")
            selects.append(f"c{position}::jsonb")
            values = [None if value is None else json.dumps(value, cls=field.encoder) for value in values]
        else:
            # varchar without its length: the INSERT checks it (an explicit cast would cut).
            placeholders.append(f"%b::{re.sub(r'[(].*[)]', '', field.db_type(connection))}[]")
            selects.append(f"c{position}")
        prepared.append(values)
    quote = connection.ops.quote_name
    # Only the model's own table and column names and placeholders go into the text; values are bound.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(placeholders)}) "
        f"AS t({', '.join(f'c{position}' for position in range(len(fields)))}) "
        f"{'ON CONFLICT DO NOTHING ' if ignore_conflicts else ''}RETURNING {quote(model._meta.pk.column)}"
    )
    keys: list = []
    with server_binding_cursor(connection) as cursor:
        for start in range(0, count, batch_size):
            cursor.execute(sql, [values[start : start + batch_size] for values in prepared])
            keys.extend(row[0] for row in cursor.fetchall())
    return keys
