"""Resolve the active organization of each request and arm the tenancy guard."""

from django.utils.functional import SimpleLazyObject

from core import selectors
from core.tenancy import tenant_guard

ACTIVE_ORGANIZATION_SESSION_KEY = "active_organization_id"


class ActiveOrganizationMiddleware:
    """Sets ``request.organization`` and ``request.membership`` for logged-in users.

    The active organization is the one chosen in the session (see the switcher in the
    admin header and the mentor portal), else the user's first. It is resolved lazily,
    so requests that never need it make no query. The rest of the request runs with
    the unscoped-query guard armed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: _active_membership(request))
        request.organization = SimpleLazyObject(lambda: getattr(request.membership, "organization", None))
        with tenant_guard():
            return self.get_response(request)


def _active_membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    wanted = request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
    return selectors.membership_active_for_user(user=user, organization_id=wanted)
