"""The second wall: PostgreSQL row-level security (RLS) on every tenant table.

The application-level wall (:mod:`core.tenancy`) fails open when a filter is
forgotten. This one fails closed: every table with an ``organization_id`` column has
RLS enabled and FORCED, with one policy that admits only the rows of the
organization named by a per-transaction setting::

    organization_id = NULLIF(current_setting('app.organization_id', true), '')::bigint
    OR current_setting('app.all_organizations', true) = 'on'

The settings are made with ``set_config(..., true)`` (``SET LOCAL``): they end with the
transaction, so nothing leaks into the next request or task that reuses the
connection, and they are safe under transaction pooling (PgBouncer). Without a
setting, tenant tables return nothing and refuse writes.

Where the setting is made:

* web requests: :class:`core.middleware.ActiveOrganizationMiddleware` runs the whole
  request (view and template rendering) in one transaction and activates the
  organization of the URL (``org_slug``) or of the session; platform superusers in
  the admin take :func:`activate_all_organizations` (logged);
* the API: :class:`core.api.base.TenantViewSetMixin` activates the organization it
  resolved (and records the acting user for the audit trail);
* Celery tasks: :class:`TenantTask` (the app's task base) runs each task in a
  transaction with the ``organization_id`` argument activated, and restores the
  previous context at the end;
* management commands and scripts: :func:`organization_context` /
  :func:`all_organizations_context`;
* ``Model.objects.dangerously_all_organizations()`` (the named, greppable way around
  the application wall) opens the database wall for that one statement only;
* the API key of a request is read by ``app_api_key_by_prefix()``, a function that
  opens the wall for its own body only, in the same statement that activates the
  URL's organization (:func:`activate_organization_slug_and_fetch`).

Policies are created by ``migrate`` itself (migration ``core.0003`` and the
``post_migrate`` handler :func:`on_post_migrate`), for every table that has an
``organization_id`` column, so a new tenant model cannot escape them. SQLite (the
embedded default) has no RLS: there only the application-level wall applies and
every function here is a no-op.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from celery import Task
from celery.exceptions import Retry
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger("core.rls")

SETTING_ORGANIZATION = "app.organization_id"
SETTING_ALL_ORGANIZATIONS = "app.all_organizations"
# Versioned: a changed predicate gets a new name, and apply_policies() replaces old ones.
POLICY_NAME = "tenant_isolation_v1"
POLICY_PREFIX = "tenant_isolation"
POLICY_PREDICATE = (
    f"organization_id = NULLIF(current_setting('{SETTING_ORGANIZATION}', true), '')::bigint "
    f"OR current_setting('{SETTING_ALL_ORGANIZATIONS}', true) = 'on'"
)
TENANT_COLUMN = "organization_id"


# --- The context of the current transaction ------------------------------------------


@dataclass(frozen=True)
class Context:
    """Whose rows the current unit of work may touch, and who is acting."""

    organization_id: int | None = None
    all_organizations: bool = False
    user_id: int | None = None


_NO_CONTEXT = Context()
_context: ContextVar[Context] = ContextVar("rls_context", default=_NO_CONTEXT)  # noqa: B039 (frozen: immutable)


def current() -> Context:
    """The context of the running request, task or command (also on SQLite)."""
    return _context.get()


def current_user_id() -> int | None:
    """The acting user, for the audit trail."""
    return _context.get().user_id


def is_enforced(using: str = DEFAULT_DB_ALIAS) -> bool:
    """True on PostgreSQL: the database wall exists (SQLite has only the application wall)."""
    return connections[using].vendor == "postgresql"


def _user_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def _applied_is_current(connection, wanted: Context) -> bool:
    """Whether ``wanted`` is already set in the open transaction.

    A setting made inside a savepoint is undone when that savepoint rolls back, so
    the record counts only while the savepoint it was made in is still open.
    """
    applied = getattr(connection, "_rls_applied", None)
    if applied is None or not connection.in_atomic_block:
        return False
    context, outermost, savepoints = applied
    return (
        context.organization_id == wanted.organization_id
        and context.all_organizations == wanted.all_organizations
        and connection.atomic_blocks
        and connection.atomic_blocks[0] is outermost
        and list(connection.savepoint_ids[: len(savepoints)]) == savepoints
    )


def _apply(wanted: Context, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the database settings match ``wanted`` in the open transaction."""
    _context.set(wanted)
    if not is_enforced(using):
        return
    connection = connections[using]
    if not connection.in_atomic_block:
        # set_config(..., true) outside a transaction lasts one statement: useless.
        # Queries then see no tenant rows (fail closed); use organization_context().
        logger.debug("rls: no transaction; context %s not applied", wanted)
        return
    if _applied_is_current(connection, wanted):
        return
    organization = "" if wanted.organization_id is None else str(int(wanted.organization_id))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
            [SETTING_ORGANIZATION, organization, SETTING_ALL_ORGANIZATIONS, "on" if wanted.all_organizations else ""],
        )
    connection._rls_applied = (wanted, connection.atomic_blocks[0], list(connection.savepoint_ids))


def activate(organization_id: int | None, *, user=None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Admit only ``organization_id``'s rows for the rest of the transaction.

    ``user`` (optional) is recorded as the acting user for the audit trail; when it
    is not given, the acting user already recorded is kept.
    """
    user_id = _user_id(user) if user is not None else _context.get().user_id
    _apply(Context(organization_id=organization_id, user_id=user_id), using)


def activate_anonymous(organization_id: int | None, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Admit ``organization_id``'s rows with no acting user (signed links: see core.links)."""
    _apply(Context(organization_id=organization_id), using)


def deactivate(using: str = DEFAULT_DB_ALIAS) -> None:
    """Admit no tenant rows for the rest of the transaction."""
    _apply(Context(user_id=_context.get().user_id), using)


def activate_all_organizations(*, reason: str, user=None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Admit every organization's rows for the rest of the transaction. Logged.

    The explicit path of platform superusers and of maintenance jobs; ``reason``
    says why and ends up in the log together with the user.
    """
    user_id = _user_id(user) if user is not None else _context.get().user_id
    wanted = Context(all_organizations=True, user_id=user_id)
    if _context.get() != wanted:
        logger.warning("rls: all organizations opened for %s: %s", getattr(user, "email", None) or "system", reason)
    _apply(wanted, using)


def activate_organization_slug(slug: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Activate the organization named in a URL, in one statement (lookup and setting).

    Used by the middleware for ``/api/v1/orgs/<org_slug>/...`` before authentication,
    so that what authentication reads (an API key) is limited to that organization.
    An unknown slug activates no organization.
    """
    from core.models import Organization

    if not is_enforced(using) or not connections[using].in_atomic_block:
        return
    connection = connections[using]
    table = connection.ops.quote_name(Organization._meta.db_table)  # a model's table name, not input
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config(%s, COALESCE((SELECT id::text FROM {table} WHERE slug = %s), ''), true), "  # noqa: S608
            "set_config(%s, '', true)",
            [SETTING_ORGANIZATION, slug, SETTING_ALL_ORGANIZATIONS],
        )
        value = cursor.fetchone()[0]
    _record_applied(connection, int(value) if value else None)


def _record_applied(connection, organization_id: int | None) -> None:
    wanted = Context(organization_id=organization_id, user_id=_context.get().user_id)
    _context.set(wanted)
    connection._rls_applied = (wanted, connection.atomic_blocks[0], list(connection.savepoint_ids))


# A deliberate cross-organization read by one column, in ONE statement: the function opens
# the database wall for its own body only (``SET`` clause: restored when it returns).
# Created by migrate (on_post_migrate) for each table below that exists; the API key
# authenticator reads its key with it while the same statement activates the URL's
# organization (activate_organization_slug_and_fetch). Table names, not imports: core
# imports no app.
CROSS_ORGANIZATION_LOOKUPS = {
    "app_api_key_by_prefix": ("integrations_apikey", "prefix"),
}


def ensure_lookup_functions(connection) -> list[str]:
    """Create (or replace) the functions of :data:`CROSS_ORGANIZATION_LOOKUPS`. Idempotent."""
    if connection.vendor != "postgresql":
        return []
    quote = connection.ops.quote_name
    created = []
    with connection.cursor() as cursor:
        for function, (table, column) in CROSS_ORGANIZATION_LOOKUPS.items():
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
            if not cursor.fetchone()[0]:
                continue
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {quote(function)}(value text) RETURNS SETOF {quote(table)} "  # noqa: S608
                f"LANGUAGE sql STABLE SET {SETTING_ALL_ORGANIZATIONS} = 'on' "
                f"AS $$ SELECT * FROM {quote(table)} WHERE {quote(column)} = value $$"
            )
            created.append(function)
    return created


def activate_organization_slug_and_fetch(
    slug: str, *, columns: str, joins: str, params: list, using: str = DEFAULT_DB_ALIAS
) -> tuple | None:
    """:func:`activate_organization_slug` and a read, in one statement (one round trip).

    ``SELECT <set the context>, <columns> FROM (SELECT 1) AS one <joins>``: ``joins``
    (LEFT JOINs, usually one on a :data:`CROSS_ORGANIZATION_LOOKUPS` function) take
    ``params``. Returns the row's ``columns`` (all NULL when nothing matched), or None
    when the database wall does not apply (SQLite, no transaction): the caller then
    reads the usual way.
    """
    from core.models import Organization

    if not is_enforced(using) or not connections[using].in_atomic_block:
        return None
    connection = connections[using]
    table = connection.ops.quote_name(Organization._meta.db_table)  # a model's table name, not input
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config(%s, COALESCE((SELECT id::text FROM {table} WHERE slug = %s), ''), true), "  # noqa: S608
            f"set_config(%s, '', true), {columns} FROM (SELECT 1) AS one {joins}",
            [SETTING_ORGANIZATION, slug, SETTING_ALL_ORGANIZATIONS, *params],
        )
        row = cursor.fetchone()
    _record_applied(connection, int(row[0]) if row[0] else None)
    return tuple(row[2:])


# On an API request that carries an API key, the middleware leaves the URL's organization
# to the key's authenticator, which activates it in the statement that reads the key.
DEFERRED_SLUG_ATTRIBUTE = "_rls_deferred_org_slug"


def defer_slug(request, slug: str) -> None:
    setattr(request, DEFERRED_SLUG_ATTRIBUTE, slug)


def take_deferred_slug(request) -> str | None:
    """The deferred slug, once: whoever takes it must activate it."""
    return request.__dict__.pop(DEFERRED_SLUG_ATTRIBUTE, None)


def activate_deferred_slug(request) -> None:
    """Activate a deferred slug that nobody took (the usual statement)."""
    slug = take_deferred_slug(request)
    if slug is not None:
        activate_organization_slug(slug)


@contextmanager
def _restoring(using: str) -> Iterator[None]:
    """Put the context back as it was when the block ends (used outside the block's atomic)."""
    previous = _context.get()
    try:
        yield
    finally:
        connection = transaction.get_connection(using)
        if connection.in_atomic_block and not connection.needs_rollback:
            _apply(previous, using)
        else:
            # No transaction left (its settings ended with it), or one that will roll back.
            _context.set(previous)


@contextmanager
def organization_context(organization_id: int | None, *, user=None, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A transaction in which only ``organization_id``'s rows are visible.

    For management commands, scripts and tasks. The previous context is restored at
    the end (also when the block runs inside an outer transaction).
    """
    with _restoring(using), transaction.atomic(using=using):
        activate(organization_id, user=user, using=using)
        yield


@contextmanager
def all_organizations_context(*, reason: str, user=None, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A transaction in which every organization's rows are visible (logged)."""
    with _restoring(using), transaction.atomic(using=using):
        activate_all_organizations(reason=reason, user=user, using=using)
        yield


@contextmanager
def request_scope(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """A request (or any unit of work) starts with no context and gives back the one it found.

    In production there is none before and the database's setting ends with the
    request's transaction. When the unit of work ran inside an outer transaction (a
    test, a task that serves a request in-process), that transaction's context is
    made current again, in Python and in the database.
    """
    previous = _context.get()
    token = _context.set(Context())
    try:
        yield
    finally:
        _context.reset(token)
        connection = connections[using]
        if connection.in_atomic_block and not connection.needs_rollback:
            _apply(previous, using)


@contextmanager
def all_organizations_for_statement(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Open the wall for the statements of this block only, then close it again.

    Backs ``dangerously_all_organizations()``: a deliberate, named cross-organization
    read (a user's memberships, an API key by its prefix, due deliveries of every
    organization) works under RLS without opening the rest of the transaction.
    """
    previous = _context.get()
    if not is_enforced(using) or previous.all_organizations:
        yield
        return
    # No savepoint: a failing statement fails the transaction, as it would without us.
    with _restoring(using), transaction.atomic(using=using, savepoint=False):
        _apply(Context(all_organizations=True, user_id=previous.user_id), using)
        yield


# --- Work after commit ---------------------------------------------------------------


def after_commit(func, *, using: str = DEFAULT_DB_ALIAS, robust: bool = False) -> None:
    """Run ``func`` once the current transaction has committed, in the context it had.

    ``transaction.on_commit`` runs its callbacks after the transaction whose
    row-level-security setting admitted the rows has ended: a callback that reads or
    writes tenant rows (an event to the webhook outbox, an email about a session)
    would see nothing and fail, or write nothing. This helper records the context of
    the unit of work that registers the callback (organization, or every
    organization, and the acting user) and re-enters it, in a transaction of its own
    with the unscoped-query guard armed, when the callback runs. Use it for every
    after-commit action: events, emails, task enqueues.
    """
    from core.tenancy import tenant_guard

    context = _context.get()

    def run() -> None:
        with _restoring(using), transaction.atomic(using=using), tenant_guard():
            _apply(context, using)
            func()

    transaction.on_commit(run, using=using, robust=robust)


# --- Celery --------------------------------------------------------------------------


class TenantTask(Task):
    """Base of every Celery task of the platform (``Celery(task_cls=...)``).

    Each run is one transaction with the unscoped-query guard armed and the RLS
    context set from the task's ``organization_id`` argument; at the end the
    previous context is restored, so a task for organization B that runs right
    after one for A on the same worker (and connection) sees nothing of A.

    * a task without ``organization_id`` sees no tenant rows, unless it declares
      ``all_organizations_reason = "..."`` (``@shared_task(all_organizations_reason=...)``):
      periodic fan-outs that find work in every organization;
    * the transaction commits on success and on ``self.retry()`` (bookkeeping of
      the attempt is kept) and rolls back on any other exception.
    """

    all_organizations_reason: str | None = None

    def _organization_id_argument(self, args, kwargs) -> int | None:
        if "organization_id" in kwargs:
            return kwargs["organization_id"]
        try:
            bound = inspect.signature(self.run).bind_partial(*args, **kwargs)
        except TypeError:
            return None
        return bound.arguments.get("organization_id")

    def __call__(self, *args, **kwargs):
        from core.tenancy import tenant_guard

        organization_id = self._organization_id_argument(args, kwargs)
        retry: Retry | None = None
        with _restoring(DEFAULT_DB_ALIAS), transaction.atomic(), tenant_guard():
            if organization_id is not None:
                activate(int(organization_id))
            elif self.all_organizations_reason:
                activate_all_organizations(reason=f"task {self.name}: {self.all_organizations_reason}")
            else:
                deactivate()
            try:
                return super().__call__(*args, **kwargs)
            except Retry as error:
                retry = error  # leave the block normally: commit the attempt's bookkeeping
        raise retry


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
