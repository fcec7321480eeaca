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

One module per sub-domain; every name is importable from ``core.rls`` as before.
"""

from core.rls.context import (  # noqa: F401
    _NO_CONTEXT,
    CROSS_ORGANIZATION_LOOKUPS,
    DEFERRED_SLUG_ATTRIBUTE,
    POLICY_NAME,
    POLICY_PREDICATE,
    POLICY_PREFIX,
    SETTING_ALL_ORGANIZATIONS,
    SETTING_ORGANIZATION,
    TENANT_COLUMN,
    Context,
    _applied_is_current,
    _apply,
    _context,
    _record_applied,
    _restoring,
    _user_id,
    activate,
    activate_all_organizations,
    activate_anonymous,
    activate_deferred_slug,
    activate_organization_slug,
    activate_organization_slug_and_fetch,
    after_commit,
    all_organizations_context,
    all_organizations_for_statement,
    current,
    current_user_id,
    deactivate,
    defer_slug,
    ensure_lookup_functions,
    is_enforced,
    organization_context,
    request_scope,
    take_deferred_slug,
)
from core.rls.policies import (  # noqa: F401
    TableState,
    app_role_name,
    app_role_problems,
    apply_policies,
    ensure_app_role,
    grant_app_role,
    on_post_migrate,
    on_pre_migrate,
    remove_policies,
    role_exists,
    tenant_tables,
    unprotected_tables,
)
from core.rls.worker import (  # noqa: F401
    TenantTask,
)
