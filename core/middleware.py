"""Resolve the active organization of each request and arm the tenancy guard."""

from django.db import transaction
from django.utils.functional import SimpleLazyObject

from core import rls, selectors
from core.tenancy import tenant_guard

ACTIVE_ORGANIZATION_SESSION_KEY = "active_organization_id"
# Health checks and the metrics scrape read no tenant rows and must answer while the
# database is down: no request transaction for them.
NO_TRANSACTION_PREFIXES = ("/health/", "/metrics/")


class ActiveOrganizationMiddleware:
    """Sets ``request.organization`` and ``request.membership`` for logged-in users.

    The active organization is the one chosen in the session (see the switcher in the
    admin header and the mentor portal), else the user's first. It is resolved lazily,
    so requests that never need it make no query. The rest of the request runs with
    the unscoped-query guard armed.

    On PostgreSQL the whole request (view and template rendering) is one transaction
    whose row-level-security context (:mod:`core.rls`) is set before the view runs:
    the organization of the URL (``org_slug``), else the session's; every
    organization for platform superusers in the admin (logged); none for anonymous
    requests, which then see no tenant rows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: _active_membership(request))
        request.organization = SimpleLazyObject(lambda: getattr(request.membership, "organization", None))
        with tenant_guard(), rls.request_scope():
            if not rls.is_enforced() or request.path.startswith(NO_TRANSACTION_PREFIXES):
                return self.get_response(request)
            # ATOMIC_REQUESTS wraps only the view; lazy querysets rendered by templates
            # run after it. One outer transaction keeps SET LOCAL in force for both.
            with transaction.atomic():
                return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        _activate_row_level_security(request, view_kwargs)
        return None


def _activate_row_level_security(request, view_kwargs) -> None:
    user = getattr(request, "user", None)
    if not rls.is_enforced():
        rls.activate(None, user=user)  # records the acting user for the audit trail
        return
    if view_kwargs.get("org_slug"):
        # API paths name the organization; the API base checks membership (404) later.
        rls.activate_organization_slug(view_kwargs["org_slug"])
        return
    if user is None or not user.is_authenticated:
        rls.deactivate()
        return
    match = getattr(request, "resolver_match", None)
    if user.is_superuser and match is not None and "admin" in match.namespaces:
        rls.activate_all_organizations(reason=f"platform superuser in the admin: {request.path}", user=user)
        return
    organization = request.organization
    rls.activate(organization.pk if organization else None, user=user)


def _active_membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    wanted = request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
    return selectors.membership_active_for_user(user=user, organization_id=wanted)


# Browser features no page of ours uses: a page (or an injected script) cannot ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), browsing-topics=()"
)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set.

    * ``Permissions-Policy`` on every response;
    * ``Cache-Control: no-store`` on API responses (``/api/``) that did not choose their
      own caching: they carry one organization's data, which a shared cache or the
      browser's history must not keep.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
