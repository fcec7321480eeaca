"""PostgreSQL policies and roles: the policy on every tenant table, the application role, ``migrate``'s hooks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from core.rls.context import (
    POLICY_NAME,
    POLICY_PREDICATE,
    POLICY_PREFIX,
    SETTING_ALL_ORGANIZATIONS,
    TENANT_COLUMN,
    ensure_lookup_functions,
)

logger = logging.getLogger("core.rls")


# --- Policies and roles (PostgreSQL) --------------------------------------------------


@dataclass(frozen=True)
class TableState:
    table: str
    rls_enabled: bool
    rls_forced: bool
    has_policy: bool
    stale_policies: tuple[str, ...]
    owner: str

    @property
    def protected(self) -> bool:
        return self.rls_enabled and self.rls_forced and self.has_policy


def tenant_tables(connection) -> list[TableState]:
    """Every table (not view) of the current schema with an ``organization_id`` column."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (
                       SELECT 1 FROM pg_policy p
                       WHERE p.polrelid = c.oid AND p.polname = %s AND p.polcmd = '*' AND p.polpermissive
                         AND p.polqual IS NOT NULL AND p.polwithcheck IS NOT NULL
                         AND p.polroles = '{0}'::oid[]
                   ),
                   ARRAY(
                       SELECT p.polname FROM pg_policy p
                       WHERE p.polrelid = c.oid AND p.polname LIKE %s AND p.polname <> %s
                   ),
                   pg_get_userbyid(c.relowner)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            ORDER BY c.relname
            """,
            [POLICY_NAME, POLICY_PREFIX + "%", POLICY_NAME, TENANT_COLUMN],
        )
        return [
            TableState(table, enabled, forced, has_policy, tuple(stale), owner)
            for table, enabled, forced, has_policy, stale, owner in cursor.fetchall()
        ]


def apply_policies(connection) -> list[str]:
    """Enable and force RLS and create the policy on every tenant table. Idempotent.

    Returns the names of the tables that were changed.
    """
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    changed = []
    with connection.cursor() as cursor:
        for state in tenant_tables(connection):
            if state.protected and not state.stale_policies:
                continue
            table = quote(state.table)
            if not state.rls_enabled:
                cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            if not state.rls_forced:
                cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            for stale in state.stale_policies:
                cursor.execute(f"DROP POLICY {quote(stale)} ON {table}")
            if not state.has_policy:
                cursor.execute(f"DROP POLICY IF EXISTS {quote(POLICY_NAME)} ON {table}")
                cursor.execute(
                    f"CREATE POLICY {quote(POLICY_NAME)} ON {table} "
                    f"USING ({POLICY_PREDICATE}) WITH CHECK ({POLICY_PREDICATE})"
                )
            changed.append(state.table)
    if changed:
        logger.info("rls: protected %d table(s): %s", len(changed), ", ".join(changed))
    return changed


def remove_policies(connection) -> None:
    """Undo :func:`apply_policies` (the reverse of the migration)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for state in tenant_tables(connection):
            table = quote(state.table)
            cursor.execute(f"DROP POLICY IF EXISTS {quote(POLICY_NAME)} ON {table}")
            cursor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def unprotected_tables(connection) -> list[str]:
    """Tables with ``organization_id`` that lack RLS, FORCE or the policy (the catalog test)."""
    return [state.table for state in tenant_tables(connection) if not state.protected]


def app_role_name() -> str:
    return getattr(settings, "DATABASE_APP_ROLE", "cohort_app")


def role_exists(connection, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None


def ensure_app_role(connection, role: str | None = None, password: str | None = None) -> bool:
    """Create (or correct) the application's login role. Needs a role that may create roles.

    The role logs in, is no superuser, cannot bypass RLS, creates nothing and owns
    nothing. Returns True when it was created.
    """
    role = role or app_role_name()
    quoted = connection.ops.quote_name(role)
    created = not role_exists(connection, role)
    attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT"
    with connection.cursor() as cursor:
        cursor.execute(f"{'CREATE' if created else 'ALTER'} ROLE {quoted} {attributes}")
        if password:
            # Utility statements take no bind parameters: quote the literal ourselves.
            cursor.execute("SELECT quote_literal(%s)", [password])
            cursor.execute(f"ALTER ROLE {quoted} PASSWORD {cursor.fetchone()[0]}")
    return created


def grant_app_role(connection, role: str | None = None) -> None:
    """Give the application role the data rights it needs, on today's and tomorrow's tables."""
    role = role or app_role_name()
    quote = connection.ops.quote_name
    quoted = quote(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        schema = quote(schema)
        cursor.execute(f"GRANT CONNECT ON DATABASE {quote(database)} TO {quoted}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}")
        # The schema's history belongs to migrate, which runs as the owner.
        cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON {quote('django_migrations')} FROM {quoted}")
        # Tables that the owner (the role running this) creates later.
        cursor.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}"
        )
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {quoted}")


def app_role_problems(connection, role: str | None = None) -> list[str]:
    """What is wrong with the application role: it must exist, own nothing, bypass nothing."""
    role = role or app_role_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        problems = []
        if row[0]:
            problems.append(f"role {role} is a superuser (superusers bypass RLS)")
        if row[1]:
            problems.append(f"role {role} has BYPASSRLS")
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
            WHERE r.rolname = %s
            UNION ALL
            SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
            WHERE r.rolname = %s
            """,
            [role, role],
        )
        owned = [name for (name,) in cursor.fetchall()]
        if owned:
            problems.append(f"role {role} owns {', '.join(sorted(owned))} (owners can change or drop policies)")
        cursor.execute(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
            "JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = %s AND (g.rolsuper OR g.rolbypassrls)",
            [role],
        )
        if cursor.fetchone():
            problems.append(f"role {role} is a member of a role that bypasses RLS")
    return problems


# --- migrate applies the policies -----------------------------------------------------


def on_pre_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Data migrations see every organization's rows (the owner is subject to FORCEd RLS)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Session-level on purpose: migrate holds its own connection for its whole run.
        cursor.execute("SELECT set_config(%s, 'on', false)", [SETTING_ALL_ORGANIZATIONS])


def on_post_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After every ``migrate`` (and ``flush``): protect every tenant table, grant the app role."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    apply_policies(connection)
    ensure_lookup_functions(connection)
    if role_exists(connection, app_role_name()):
        grant_app_role(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, '', false)", [SETTING_ALL_ORGANIZATIONS])
