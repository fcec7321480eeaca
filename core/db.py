"""Database helpers shared by the apps' bulk writers."""

from __future__ import annotations


def server_binding_cursor(connection):
    """A cursor of ``connection`` (PostgreSQL, psycopg 3) that binds parameters server-side.

    Django's cursors bind client-side: every value, also each element of a large array,
    is quoted into the SQL text in Python. Bulk writes (``core.audit.audit_record_bulk``, the
    participant import, reminder planning) send their arrays as parameters instead, in binary with ``%b``.
    Wrapped like Django's own cursors, so that query logging (``CaptureQueriesContext``),
    execute wrappers and error translation see the statement; it prepares nothing that
    outlives the statement (PgBouncer in transaction pooling, docs/scaling.md).
    """
    import psycopg

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
