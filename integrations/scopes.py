"""API key scopes: read or write access per resource group.

A scope is ``<group>:read`` or ``<group>:write`` (write includes read). Each tenant
viewset belongs to one group: its ``api_scope_group`` attribute, else the group of
the app that defines it (see :func:`scope_group_for_view`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

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
APP_GROUPS = {"core": "organization", "integrations": "webhooks"}
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


def scope_group_for_view(view) -> str:
    explicit = getattr(view, "api_scope_group", None)
    if explicit:
        return explicit
    app_label = type(view).__module__.split(".", 1)[0]
    return APP_GROUPS.get(app_label, app_label)
