"""API key scopes: read or write access per resource group.

A scope is ``<group>:read`` or ``<group>:write`` (write includes read). Each tenant
viewset belongs to one group: its ``api_scope_group`` attribute, else the group of
the app that defines it (see :func:`scope_group_for_view`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.api.scopes import APP_GROUPS, scope_group_for_view  # noqa: F401 (the permission check's part)

# Resource groups, in the order the admin shows them. App labels map to a group of
# the same name except where a friendlier one reads better.
SCOPE_GROUPS: dict[str, object] = {
    "organization": _("Organization and members"),
    "programs": _("Programs, runs, enrollments, milestones, check-ins, help requests"),
    "mentors": _("Mentors, development goals, sessions"),
    "assessments": _("Frameworks, assessments, value-gap surveys, reports"),
    "matching": _("Mentor matching: proposals, conflicts, preferences"),
    "notifications": _("Notifications"),
    "webhooks": _("Webhook subscriptions and deliveries"),
}
ACCESS_LEVELS = ("read", "write")


def all_scopes() -> list[str]:
    return [f"{group}:{access}" for group in SCOPE_GROUPS for access in ACCESS_LEVELS]


def scope_choices() -> list[tuple[str, str]]:
    labels = {"read": _("read"), "write": _("read and write")}
    return [
        (f"{group}:{access}", f"{title} — {labels[access]}")
        for group, title in SCOPE_GROUPS.items()
        for access in ACCESS_LEVELS
    ]


def invalid_scopes(scopes) -> list[str]:
    valid = set(all_scopes())
    return [str(scope) for scope in scopes if scope not in valid]
