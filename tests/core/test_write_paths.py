"""Services are the only write path (docs/ARCHITECTURE.md): the API and the admin name the same ones.

Read from the URL conf and the admin site, so a new endpoint or admin page that writes with the
model's own ``save()`` fails here. A view or serializer may also write in code of its own (a
``create``/``update``/``perform_*`` of the app), which calls a service by convention.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import get_resolver
from rest_framework import serializers

from core.admin_base import TenantAdmin, TenantInline


def _views():
    def walk(patterns):
        for entry in patterns:
            if hasattr(entry, "url_patterns"):
                yield from walk(entry.url_patterns)
            else:
                yield entry.callback

    seen = set()
    for callback in walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if view is not None and view not in seen:
            seen.add(view)
            yield view, getattr(callback, "actions", None) or {}


def _own(cls, name: str) -> bool:
    """``name`` is written by the project, not inherited from DRF or the project's generic bases."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return not klass.__module__.startswith(("rest_framework", "core.api.base", "core.api.serializers"))
    return False


def _api_writes():
    for view, _actions in _views():
        serializer = getattr(view, "serializer_class", None)
        if serializer is None or not issubclass(serializer, serializers.ModelSerializer):
            continue
        methods = set(view.http_method_names)
        for action, http, hook in (
            ("create", {"post"}, "create_service"),
            ("update", {"put", "patch"}, "update_service"),
        ):
            if hasattr(view, action) and methods & http:
                yield view, serializer, action, hook


@pytest.mark.parametrize(
    ("view", "serializer", "action", "hook"),
    list(_api_writes()),
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_every_api_write_goes_through_a_service(view, serializer, action, hook):
    by_service = getattr(serializer, hook, None) is not None
    by_own_code = _own(serializer, action) or _own(view, action) or _own(view, f"perform_{action}")
    assert by_service or by_own_code, (
        f"{view.__module__}.{view.__name__} {action}s {serializer.Meta.model.__name__} with save(): "
        f"name the service on {serializer.__name__}.{hook}"
    )


def _serviced_models():
    """Models whose API writes through a named service: their admin must use the same ones."""
    found = {}
    for _view, serializer, _action, hook in _api_writes():
        service = getattr(serializer, hook, None)
        if service is not None:
            found.setdefault(serializer.Meta.model, {})[hook] = service
    return found


def _admin_writers():
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, TenantAdmin):
            yield model, type(model_admin), "save_model"
            for inline in model_admin.inlines:
                if issubclass(inline, TenantInline):
                    yield inline.model, inline, None


@pytest.mark.parametrize(
    ("model", "writer", "override"),
    [row for row in _admin_writers() if row[0] in _serviced_models()],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_the_admin_writes_with_the_services_the_api_uses(model, writer, override):
    expected = _serviced_models()[model]
    for hook, service in expected.items():
        named = getattr(writer, hook, None)
        overridden = override is not None and "save_model" in writer.__dict__
        assert named is service or overridden, (
            f"{writer.__module__}.{writer.__name__} writes {model.__name__} without {service.__name__}: "
            f"set {hook} = {service.__module__}.{service.__name__}"
        )


def test_the_checks_see_the_write_paths():
    """The two tests above cover the endpoints and pages that write (a broken walk would pass vacuously)."""
    assert len(list(_api_writes())) > 40
    serviced = _serviced_models()
    assert len(serviced) >= 13
    assert len([row for row in _admin_writers() if row[0] in serviced]) >= 15
