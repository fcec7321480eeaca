"""The isolation matrix again, with every request made as the application's database role.

The first run (``test_matrix.py``) connects as ``postgres``, whom row-level security
never restricts: it tests the application wall. Here every request runs as the role
the web processes use (no superuser, no BYPASSRLS), so the database wall is up too.
This shows that the application works under row-level security on every route (the
organization's own lists are not empty, nothing answers 500), and that no route leaks
with both walls up. The checks between requests (B unchanged) run as ``postgres``.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core import rls
from tests.isolation.routes import all_routes
from tests.isolation.test_matrix import (  # noqa: F401  (worlds is a fixture)
    API_PREFIX,
    Matrix,
    _check_api_route,
    _results,
    _view_model,
    run_admin_matrix,
    worlds,
)
from tests.isolation.world import cross_organization_references

pytestmark = pytest.mark.postgres


class AppRoleMixin:
    """Each request runs as the application role; the test's own queries do not."""

    def request(self, **kwargs):
        role = connection.ops.quote_name(rls.app_role_name())
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {role}")
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == rls.app_role_name()
        try:
            return super().request(**kwargs)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")


class AppRoleAPIClient(AppRoleMixin, APIClient):
    pass


class AppRoleClient(AppRoleMixin, Client):
    pass


@pytest.fixture
def app_role_ready(postgres):
    if not rls.role_exists(connection, rls.app_role_name()):
        rls.ensure_app_role(connection)
    rls.grant_app_role(connection)


def test_every_api_route_under_row_level_security(worlds, app_role_ready):  # noqa: F811
    a, b = worlds
    matrix = Matrix(a, b)
    missing: list[str] = []
    client = AppRoleAPIClient()
    client.force_authenticate(a.user)
    routes = [r for r in all_routes() if r.text.startswith(API_PREFIX) and "format" not in r.params]
    for route in routes:
        try:
            _check_api_route(matrix, client, route)
        except Exception as error:
            matrix.fail(route, f"crashed: {type(error).__name__}: {error}")
    # The organization's own rows are visible through the database wall.
    seen = 0
    for route in routes:
        actions = getattr(route.callback, "actions", None) or {}
        model = _view_model(route.callback) if actions.get("get") == "list" else None
        if model is None or a.pk(model) is None:
            continue
        shown = {row.get("id") for row in _results(client.get(route.url(org_slug=a.organization.slug)))}
        if a.pk(model) in shown:
            seen += 1
        else:
            missing.append(route.text)
    assert seen > 10, f"A's own rows are missing from most lists under RLS: {missing}"
    leaks = cross_organization_references()
    if leaks:
        matrix.fail("(database)", f"rows pointing into another organization: {leaks}")
    assert not matrix.unexpected(), matrix.report()


def test_every_admin_page_under_row_level_security(worlds, app_role_ready):  # noqa: F811
    a, b = worlds
    matrix = Matrix(a, b)
    client = AppRoleClient()
    client.force_login(a.user)
    run_admin_matrix(matrix, client)
    # The organization's own rows are visible through the database wall.
    program = a.rows[next(m for m in a.rows if m._meta.label == "programs.Program")]
    response = client.get("/admin/programs/program/")
    assert program in list(response.context["cl"].result_list)
    assert not matrix.unexpected(), matrix.report()
