"""The context of the current transaction (which organization, which user) and work after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger("core.rls")


# --- The settings and the policy --------------------------------------------------------

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
