"""Per-method role checks for tenant endpoints, and scope checks for API keys."""

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.api.scopes import scope_group_for_view
from core.models import Membership


def api_key_of(request):
    """The API key that authenticated ``request`` (``request.auth`` flagged ``is_api_key``), or None."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_api_key", False) else None


class OrganizationRolePermission(BasePermission):
    """Checks the requester's role in the organization of the URL.

    The view's ``role_map`` maps HTTP methods to the least role allowed; by default
    reads need a viewer and writes a program manager. Non-members never get here:
    the organization is resolved first and answers 404 to them.

    An API key has no role: it needs the scope ``<group>:read`` for safe methods and
    ``<group>:write`` for the others, where the group is the view's resource group.
    A key never does what needs more than a program manager (``role_map`` entries
    of owner), and nothing a ``role_map`` forbids.
    """

    default_role_map = {
        "GET": Membership.Role.VIEWER,
        "HEAD": Membership.Role.VIEWER,
        "OPTIONS": Membership.Role.VIEWER,
        "POST": Membership.Role.PROGRAM_MANAGER,
        "PUT": Membership.Role.PROGRAM_MANAGER,
        "PATCH": Membership.Role.PROGRAM_MANAGER,
        "DELETE": Membership.Role.PROGRAM_MANAGER,
    }

    def _needed_role(self, request, view):
        role_map = {**self.default_role_map, **getattr(view, "role_map", {})}
        return role_map.get(request.method, Membership.Role.OWNER if request.method not in SAFE_METHODS else None)

    def has_permission(self, request, view) -> bool:
        api_key = api_key_of(request)
        if api_key is not None:
            return self._api_key_allows(api_key, request, view)
        if request.user and request.user.is_superuser:
            return True
        membership = view.membership
        if membership is None:
            return False
        needed = self._needed_role(request, view)
        return needed is not None and membership.role >= needed

    def _api_key_allows(self, api_key, request, view) -> bool:
        needed = self._needed_role(request, view)
        if needed is None or needed > Membership.Role.PROGRAM_MANAGER:
            self.message = _("API keys cannot do this; sign in as a person with the right role.")
            return False
        scope = f"{scope_group_for_view(view)}:{'read' if request.method in SAFE_METHODS else 'write'}"
        if not api_key.has_scope(scope):
            self.message = _("This API key lacks the scope %(scope)s.") % {"scope": scope}
            self.code = "insufficient_scope"
            return False
        return True
