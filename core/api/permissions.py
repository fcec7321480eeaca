"""Per-method role checks for tenant endpoints."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.models import Membership


class OrganizationRolePermission(BasePermission):
    """Checks the requester's role in the organization of the URL.

    The view's ``role_map`` maps HTTP methods to the least role allowed; by default
    reads need a viewer and writes a program manager. Non-members never get here:
    the organization is resolved first and answers 404 to them.
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

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_superuser:
            return True
        membership = view.membership
        if membership is None:
            return False
        role_map = {**self.default_role_map, **getattr(view, "role_map", {})}
        needed = role_map.get(request.method, Membership.Role.OWNER if request.method not in SAFE_METHODS else None)
        return needed is not None and membership.role >= needed
