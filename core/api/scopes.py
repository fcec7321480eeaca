"""Which API-key scope group a tenant viewset belongs to (the permission check needs it).

The groups themselves and their labels are in ``integrations.scopes``, with the keys.
"""

from __future__ import annotations

#: App labels whose group has another name.
APP_GROUPS = {"core": "organization", "integrations": "webhooks"}


def scope_group_for_view(view) -> str:
    """The view's ``api_scope_group``, else the group of the app that defines it."""
    explicit = getattr(view, "api_scope_group", None)
    if explicit:
        return explicit
    app_label = type(view).__module__.split(".", 1)[0]
    return APP_GROUPS.get(app_label, app_label)
