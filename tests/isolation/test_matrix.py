"""The isolation matrix: every API route and admin page, called by organization A with B's ids.

Generated from the URL configuration and the admin registry, not from a list: a new
route is called too. Each tenant model gets one row in A and one in B (see
``world.py``). Then, as an owner of A:

* every route with an object id in its path is called with B's id, with every method
  it answers: the answer is 404;
* list routes show none of B's rows; their query filters given B's ids answer 400;
* create and update bodies whose foreign-key fields carry B's ids answer 400, and
  name those fields;
* admin changelists show none of B's rows; admin actions, add and change forms given
  B's ids change nothing of B and create nothing that points at B;
* after every call, nothing of B has changed (ids and update times of all its rows).

A route the matrix cannot classify (a parameter it cannot fill, a view of an unknown
kind) fails the test with its pattern, so that no route slips past. Routes that carry
no object id and show no tenant data are listed in ``NO_TENANT_DATA`` with a reason.
"""

from __future__ import annotations

import html
import json
import re
import warnings

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from rest_framework import relations, serializers
from rest_framework.routers import APIRootView
from rest_framework.test import APIClient

from core.models import Organization, TenantModel, User
from tests.factories.core import OrganizationFactory
from tests.isolation.routes import Route, all_routes
from tests.isolation.world import World, build_world, cross_organization_references, fingerprint

API_PREFIX = "api/v1/orgs/<slug:org_slug>/"
ADMIN_PREFIX = "admin/"

# Routes without an object id that show no tenant rows: (pattern start, why it is safe).
NO_TENANT_DATA = {
    "api/v1/schema/": "the OpenAPI document: describes routes, holds no rows",
    "api/docs/": "Swagger UI page: loads the schema, holds no rows",
    "admin/login/": "the login form",
    "admin/logout/": "logs out",
    "admin/password_change/": "the user's own password",
    "admin/password_change/done/": "a confirmation page",
    "admin/jsi18n/": "JavaScript translations",
    "admin/two-step-verification/": "the user's own authenticator and recovery codes (tests/core/test_two_factor.py)",
    "admin/": "the index lists apps and the user's own recent actions; checked below to show no B rows",
    "admin/^(?P<app_label>": "an app's index: lists models, not rows",
    "admin/(?P<url>": "the catch-all: redirects to the login or answers 404",
}

# Failures the matrix found in other apps' code, reported to their owners. A route here
# still runs; its failure is shown as a warning instead of failing the suite. Remove the
# entry once fixed (a fixed entry warns that it can go).
KNOWN_FAILURES: dict[str, str] = {}

# Site-level admin views that the matrix calls with B's ids in its own way (see below).
ADMIN_SITE_VIEWS_CHECKED = {"view_on_site", "autocomplete", "switch_organization"}


# --- Set-up ---------------------------------------------------------------------------


@pytest.fixture
def worlds(db):
    a = build_world(OrganizationFactory(name="Alpha Accelerator", slug="alpha"), label="alpha")
    b = build_world(OrganizationFactory(name="Beta Accelerator", slug="beta"), label="beta")
    problems = {**a.problems, **{k: v for k, v in b.problems.items() if k not in a.problems}}
    assert not problems, "Cannot build a row of these tenant models (add a factory):\n" + "\n".join(
        f"  {label}: {why}" for label, why in sorted(problems.items())
    )
    return a, b


class Matrix:
    """Calls routes and collects what went wrong, naming the route."""

    def __init__(self, a: World, b: World):
        self.a, self.b = a, b
        self.failures: list[str] = []
        self.covered: set[str] = set()
        self.before = fingerprint(b.organization)
        self.markers = _markers(a, b)

    def fail(self, route: Route | str, message: str) -> None:
        text = route.text if isinstance(route, Route) else route
        self.failures.append(f"{text}: {message}")

    def check_b_unchanged(self, route: Route, what: str) -> None:
        after = fingerprint(self.b.organization)
        if after != self.before:
            changed = sorted(label for label in after if after[label] != self.before[label])
            self.fail(route, f"{what} changed B's rows: {changed}")
            self.before = after

    def unexpected(self) -> list[str]:
        """Failures not in KNOWN_FAILURES; the known ones become warnings."""
        known = [f for f in self.failures if f.split(": ", 1)[0] in KNOWN_FAILURES]
        for failure in known:
            warnings.warn(f"known isolation failure: {failure}", stacklevel=2)
        return [f for f in self.failures if f not in known]

    def report(self) -> str:
        failures = self.unexpected()
        return f"{len(failures)} isolation failure(s):\n" + "\n".join(f"  {f}" for f in failures)


def _model_by_param(name: str, default=None, app_label: str | None = None):
    """``pk`` is the view's model; ``run_id`` / ``help_request_pk`` name a tenant model.

    A short name (``survey_id``) may name a model of the route's own app whose name
    ends with it (``ValueSurvey``).
    """
    if name in ("pk", "id", "object_id"):
        return default
    stem = name.removesuffix("_id").removesuffix("_pk").replace("_", "")
    tenant = [m for m in apps.get_models() if issubclass(m, TenantModel)]
    matches = [m for m in tenant if m._meta.model_name == stem]
    if not matches and app_label:
        matches = [m for m in tenant if m._meta.app_label == app_label and m._meta.model_name.endswith(stem)]
    return matches[0] if len(matches) == 1 else None


def _is_success(status: int) -> bool:
    return 200 <= status < 300


def _results(response) -> list:
    try:
        data = response.json()
    except (ValueError, TypeError):
        return []
    if isinstance(data, dict):
        data = data.get("results", [])
    return data if isinstance(data, list) else []


# --- The API --------------------------------------------------------------------------


def _view_model(callback):
    cls = callback.cls
    model = getattr(cls, "model", None)
    if model is None and getattr(cls, "queryset", None) is not None:
        model = cls.queryset.model
    return model


def _writable_tenant_relations(callback, action: str, organization, method: str, instance=None) -> dict[str, tuple]:
    """Serializer fields that take ids of tenant rows: name -> (model, many)."""
    from rest_framework.test import APIRequestFactory

    view = callback.cls(**getattr(callback, "initkwargs", {}))
    view.action = action
    view.action_map = callback.actions
    view.format_kwarg = None
    view.kwargs = {}
    view.request = APIRequestFactory().generic(method, "/")
    view.request.user = None
    serializer_class = view.get_serializer_class()
    serializer = serializer_class(instance, context={"organization": organization, "request": None, "view": view})
    found = {}
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        many = isinstance(field, relations.ManyRelatedField)
        target = field.child_relation if many else field
        if isinstance(target, serializers.RelatedField) and target.queryset is not None:
            model = target.queryset.model
            if issubclass(model, TenantModel):
                found[name] = (model, many)
    return found


def _foreign_body(matrix: Matrix, relations_: dict[str, tuple]) -> dict:
    body = {}
    for name, (model, many) in relations_.items():
        pk = matrix.b.pk(model)
        if pk is not None:
            body[name] = [pk] if many else pk
    return body


def _check_api_route(matrix: Matrix, client: APIClient, route: Route) -> None:
    callback = route.callback
    cls = getattr(callback, "cls", None)
    if cls is None:
        matrix.fail(route, "not a DRF view: the matrix does not know how to call it")
        return
    if issubclass(cls, APIRootView):
        return  # links to the routes below, no rows
    actions = getattr(callback, "actions", None)
    if not actions:
        matrix.fail(route, f"{cls.__name__} is not a viewset: add it to the matrix")
        return
    model = _view_model(callback)
    params = [p for p in route.params if p not in ("org_slug", "format")]
    a, b = matrix.a, matrix.b
    slug = a.organization.slug

    if params:
        values = {"org_slug": slug}
        for param in params:
            target = _model_by_param(param, default=model)
            if target is None or b.pk(target) is None:
                matrix.fail(route, f"cannot fill <{param}> with a row of B (unknown model)")
                return
            values[param] = b.pk(target)
        url = route.url(**values)
        for method, action in list(actions.items()):
            if method not in cls.http_method_names:
                continue  # 405 for every object alike: reveals nothing
            response = getattr(client, method)(url, {}, format="json")
            if response.status_code != 404:
                matrix.fail(route, f"{method.upper()} ({action}) with B's id answered {response.status_code}")
            matrix.check_b_unchanged(route, f"{method.upper()} {action}")
        # A's own row, B's ids in the body.
        if model is not None and params == ["pk"] and a.pk(model) is not None:
            own_url = route.url(org_slug=slug, pk=a.pk(model))
            for method in ("put", "patch"):
                if method not in actions or method not in cls.http_method_names:
                    continue
                fields = _writable_tenant_relations(
                    callback, actions[method], a.organization, method, instance=a[model]
                )
                body = _foreign_body(matrix, fields)
                if not body:
                    continue
                response = getattr(client, method)(own_url, body, format="json")
                _expect_field_errors(matrix, route, method, response, body)
                matrix.check_b_unchanged(route, f"{method.upper()} with B's ids in the body")
        return

    url = route.url(org_slug=slug)
    # Another organization's slug: as if it did not exist.
    foreign = client.get(route.url(org_slug=b.organization.slug))
    if foreign.status_code != 404:
        matrix.fail(route, f"GET with B's slug answered {foreign.status_code}")
    for method, action in list(actions.items()):
        if action == "list":
            response = client.get(url)
            if response.status_code != 200:
                matrix.fail(route, f"GET list answered {response.status_code}")
            shown = {row.get("id") for row in _results(response) if isinstance(row, dict)}
            if model is not None and b.pk(model) in shown:
                matrix.fail(route, f"the list shows B's {model._meta.label} #{b.pk(model)}")
            leaked = _leaked(response, matrix)
            if leaked:
                matrix.fail(route, f"the list shows B's {leaked}")
            _check_api_filters(matrix, client, route, url)
        elif action == "create":
            fields = _writable_tenant_relations(callback, action, a.organization, method)
            body = _foreign_body(matrix, fields)
            count = model._base_manager.filter(organization=a.organization).count() if model else None
            response = client.post(url, body, format="json")
            if body:
                _expect_field_errors(matrix, route, "post", response, body)
            elif response.status_code >= 500:
                matrix.fail(route, f"POST answered {response.status_code}")
            if model is not None and body and model._base_manager.filter(organization=a.organization).count() != count:
                matrix.fail(route, "POST with B's ids created a row")
        elif method in ("get", "head") and action.endswith(("_report", "_report_csv")):
            # Organization-wide read-only reports (e.g. assessment-reports/organization/):
            # answered for A, and nothing of B's in them.
            response = client.get(url)
            if response.status_code != 200:
                matrix.fail(route, f"GET {action} answered {response.status_code}")
            leaked = _leaked(response, matrix)
            if leaked:
                matrix.fail(route, f"{action} shows B's {leaked}")
        else:
            matrix.fail(route, f"list-level action {action!r} ({method.upper()}): add it to the matrix")
        matrix.check_b_unchanged(route, f"{method.upper()} {action}")


def _expect_field_errors(matrix: Matrix, route: Route, method: str, response, body: dict) -> None:
    if response.status_code == 404:
        return  # refused as if the ids did not exist: reveals nothing either
    if response.status_code != 400:
        matrix.fail(route, f"{method.upper()} with B's ids in {sorted(body)} answered {response.status_code}")
        return
    text = response.content.decode()
    missing = [name for name in body if f'"{name}"' not in text]
    if missing:
        matrix.fail(route, f"{method.upper()} with B's ids: no error for {missing}")


def _check_api_filters(matrix: Matrix, client: APIClient, route: Route, url: str) -> None:
    cls = route.callback.cls
    filterset_class = getattr(cls, "filterset_class", None)
    model = _view_model(route.callback)
    names: dict[str, type] = {}
    if filterset_class is not None:
        for name, flt in filterset_class.base_filters.items():
            queryset = getattr(flt, "queryset", None) or flt.extra.get("queryset")
            target = getattr(queryset, "model", None)
            if target is None and model is not None:
                target = _field_target(model, flt.field_name)
            if target is not None and issubclass(target, TenantModel):
                names[name] = target
    else:
        fields = getattr(cls, "filterset_fields", None) or []
        for name in fields if isinstance(fields, (list, tuple)) else fields.keys():
            target = _field_target(model, name) if model is not None else None
            if target is not None and issubclass(target, TenantModel):
                names[name] = target
    for name, target in names.items():
        pk = matrix.b.pk(target)
        if pk is None:
            continue
        response = client.get(url, {name: pk})
        if response.status_code not in (400, 404):
            matrix.fail(route, f"GET ?{name}=<B's {target._meta.label}> answered {response.status_code}")


def _field_target(model, path: str):
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except Exception:
            return None
        if not field.is_relation:
            return None
        current = field.related_model
    return current


def test_every_api_route_refuses_another_organizations_ids(worlds):
    a, b = worlds
    matrix = Matrix(a, b)
    client = APIClient()
    client.force_authenticate(a.user)
    api_routes = [r for r in all_routes() if r.text.startswith(API_PREFIX) and "format" not in r.params]
    assert len(api_routes) > 10
    for route in api_routes:
        try:
            _check_api_route(matrix, client, route)
        except Exception as error:  # a crash names the route instead of hiding the rest
            matrix.fail(route, f"crashed: {type(error).__name__}: {error}")
    leaks = cross_organization_references()
    if leaks:
        matrix.fail("(database)", f"rows pointing into another organization: {leaks}")
    assert not matrix.unexpected(), matrix.report()


def test_the_api_outside_an_organization_shows_only_ones_own(worlds):
    a, b = worlds
    client = APIClient()
    client.force_authenticate(a.user)
    slugs = [row["slug"] for row in _results(client.get("/api/v1/orgs/"))]
    assert slugs == [a.organization.slug]
    others = [
        r.text
        for r in all_routes()
        if r.text.startswith("api/")
        and not r.text.startswith(API_PREFIX)
        and r.text != "api/v1/orgs/"
        and not any(r.text.startswith(safe) for safe in NO_TENANT_DATA)
    ]
    assert others == [], "API routes outside /api/v1/orgs/<org_slug>/ that the matrix does not cover"


# --- The admin ------------------------------------------------------------------------


def _non_tenant_object(model, b: World):
    """The row of a non-tenant admin that belongs to B's side."""
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    if model is Organization:
        return b.organization
    if model is User:
        return b.user
    if model is Group:
        return Group.objects.get_or_create(name="Beta staff")[0]
    if issubclass(model, Token):
        return Token.objects.get_or_create(user=b.user)[0]
    return None


def _admin_object_pk(model, b: World):
    if issubclass(model, TenantModel):
        return b.pk(model)
    obj = _non_tenant_object(model, b)
    return None if obj is None else obj.pk


# Route parameters that are not ids, and the value the matrix gives them.
NON_ID_PARAMS = {
    "fmt": "csv",  # an export format
}


def _admin_model_admin(route: Route):
    """The ModelAdmin of a route: the one Django wrapped it for, or the one its URL lies under."""
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None:
        return model_admin
    for model, candidate in admin.site._registry.items():
        prefix = f"{ADMIN_PREFIX}{model._meta.app_label}/{model._meta.model_name}/"
        if route.text.startswith(prefix):
            return candidate
    return None


def _admin_param_values(matrix: Matrix, route: Route, model) -> dict | str:
    values = {}
    for param in route.params:
        if param in NON_ID_PARAMS:
            values[param] = NON_ID_PARAMS[param]
            continue
        if param in ("object_id", "id", "pk"):
            pk = _admin_object_pk(model, matrix.b)
        elif param == "organization_id":  # organization-wide pages (e.g. the assessments' organization report)
            pk = matrix.b.organization.pk
        else:
            target = _model_by_param(param, app_label=model._meta.app_label)
            pk = matrix.b.pk(target) if target is not None else None
        if pk is None:
            return f"cannot fill <{param}> with a row of B: add it to the matrix"
        values[param] = pk
    return values


def _check_admin_model_route(matrix: Matrix, client: Client, route: Route, model_admin) -> None:
    b = matrix.b
    model = model_admin.model
    tenant = issubclass(model, TenantModel)
    name = route.name.removeprefix(f"{model._meta.app_label}_{model._meta.model_name}_")
    values = _admin_param_values(matrix, route, model)
    if isinstance(values, str):
        matrix.fail(route, values)
        return
    url = route.url(**values)
    ids = [p for p in route.params if p not in NON_ID_PARAMS]

    if ids:
        for method in ("get", "post"):
            response = getattr(client, method)(url, follow=True)
            if tenant and response.status_code != 404:
                matrix.fail(route, f"{method.upper()} with B's id answered {response.status_code}")
            if not tenant and _is_success(response.status_code) and _leaked(response, matrix):
                matrix.fail(route, f"{method.upper()} with B's {model._meta.label} shows {_leaked(response, matrix)}")
            matrix.check_b_unchanged(route, method.upper())
        return

    if name == "changelist":
        response = client.get(url, follow=True)
        if tenant and response.status_code != 200:
            matrix.fail(route, f"GET answered {response.status_code}")
        _check_changelist_rows(matrix, route, response, model)
        for filter_query in _changelist_filter_queries(model_admin, b):
            response = client.get(url + "?" + filter_query, follow=True)
            if response.status_code >= 500:
                matrix.fail(route, f"GET ?{filter_query} answered {response.status_code}")
            _check_changelist_rows(matrix, route, response, model, note=f" with ?{filter_query}")
        pk = _admin_object_pk(model, b)
        if pk is not None:
            for action in _admin_actions(client, url):
                client.post(url + "?archived=all", {"action": action, "_selected_action": [pk], "post": "yes"})
                matrix.check_b_unchanged(route, f"action {action} on B's row")
    elif name == "add":
        response = client.get(url)
        if response.status_code >= 500:
            matrix.fail(route, f"GET answered {response.status_code}")
        if tenant:
            response = client.post(url, _admin_foreign_body(model, b))
            if response.status_code >= 500:
                matrix.fail(route, f"POST with B's ids answered {response.status_code}")
    else:
        # A page of the model's own without an id (a report, a preview, a bulk action):
        # it may show the organization's data, never B's; a bare POST changes nothing of B.
        for method in ("get", "post"):
            response = getattr(client, method)(url, follow=True)
            if response.status_code >= 500:
                matrix.fail(route, f"{method.upper()} answered {response.status_code}")
            leaked = _leaked(response, matrix)
            if leaked:
                matrix.fail(route, f"{method.upper()} shows B's {leaked}")
    matrix.check_b_unchanged(route, route.name)


def _markers(a: World, b: World) -> dict[str, str]:
    """Texts that only B's pages could contain: B's name, its member, and the names of its rows."""
    common = {str(row) for row in a.rows.values()} | {a.organization.name, a.user.email}
    markers = {b.organization.name: "organization", b.user.email: "member"}
    for model, row in b.rows.items():
        text = str(row)
        if len(text) >= 6 and not text.isdigit() and text not in common:
            markers.setdefault(text, model._meta.label)
    return markers


def _leaked(response, matrix: Matrix) -> str:
    text = response.content.decode(errors="replace")
    for marker, what in matrix.markers.items():
        for form in {marker, html.escape(marker), json.dumps(marker)[1:-1]}:
            if re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text):
                return f"{what} ({marker!r})"
    return ""


def _check_changelist_rows(matrix, route, response, model, note: str = "") -> None:
    context = getattr(response, "context", None)
    changelist = context.get("cl") if context is not None else None
    if changelist is None:
        if _is_success(response.status_code) and _leaked(response, matrix):
            matrix.fail(route, f"the page shows B's {_leaked(response, matrix)}{note}")
        return
    rows = list(changelist.result_list)
    if issubclass(model, TenantModel):
        foreign = [row.pk for row in rows if row.organization_id != matrix.a.organization.pk]
        if foreign:
            matrix.fail(route, f"the list shows rows of another organization{note}: {foreign}")
    elif model is Organization and matrix.b.organization in rows:
        matrix.fail(route, f"the list shows organization B{note}")
    elif model is User and matrix.b.user in rows:
        matrix.fail(route, f"the list shows B's member{note}")


def _changelist_filter_queries(model_admin, b: World) -> list[str]:
    queries = []
    for field in model_admin.model._meta.concrete_fields:
        if field.is_relation and issubclass(field.related_model, TenantModel) and b.pk(field.related_model):
            queries.append(f"{field.name}__id__exact={b.pk(field.related_model)}")
            queries.append(f"{field.attname}={b.pk(field.related_model)}")
    return queries


def _admin_actions(client: Client, url: str) -> list[str]:
    response = client.get(url)
    context = getattr(response, "context", None)
    form = context.get("action_form") if context is not None else None
    if form is None:
        return []
    return [name for name, _label in form.fields["action"].choices if name]


def _admin_foreign_body(model, b: World) -> dict:
    body = {}
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name != "organization" and issubclass(field.related_model, TenantModel):
            pk = b.pk(field.related_model)
            if pk is not None:
                body[field.name] = pk
    for field in model._meta.many_to_many:
        pk = b.pk(field.related_model)
        if pk is not None:
            body[field.name] = [pk]
    return body


def _check_admin_site_route(matrix: Matrix, client: Client, route: Route) -> None:
    b = matrix.b
    if route.name == "view_on_site":
        for model, row in b.rows.items():
            content_type = ContentType.objects.get_for_model(model)
            response = client.get(route.url(content_type_id=content_type.pk, object_id=row.pk))
            if response.status_code != 404:
                matrix.fail(route, f"B's {model._meta.label} answered {response.status_code}")
    elif route.name == "autocomplete":
        for source, model_admin in admin.site._registry.items():
            for field_name in getattr(model_admin, "autocomplete_fields", ()):
                target = source._meta.get_field(field_name).related_model
                response = client.get(
                    route.url(),
                    {
                        "app_label": source._meta.app_label,
                        "model_name": source._meta.model_name,
                        "field_name": field_name,
                        "term": "",
                    },
                )
                shown = (
                    {str(r["id"]) for r in response.json().get("results", [])} if response.status_code == 200 else set()
                )
                if b.pk(target) is not None and str(b.pk(target)) in shown:
                    matrix.fail(route, f"{source._meta.label}.{field_name} offers B's {target._meta.label}")
    elif route.name == "switch_organization":
        from core.middleware import ACTIVE_ORGANIZATION_SESSION_KEY

        client.post(route.url(), {"organization": b.organization.pk, "next": "/admin/"})
        if client.session.get(ACTIVE_ORGANIZATION_SESSION_KEY) == b.organization.pk:
            matrix.fail(route, "a member of A switched into B")
    matrix.check_b_unchanged(route, route.name)


def run_admin_matrix(matrix: Matrix, client: Client) -> None:
    """Every admin route, as the logged-in member of A."""
    for route in [r for r in all_routes() if r.text.startswith(ADMIN_PREFIX)]:
        model_admin = _admin_model_admin(route)
        try:
            if model_admin is not None:
                _check_admin_model_route(matrix, client, route, model_admin)
            elif route.name in ADMIN_SITE_VIEWS_CHECKED:
                _check_admin_site_route(matrix, client, route)
            elif not any(route.text.startswith(safe) and len(safe) > len("admin/") for safe in NO_TENANT_DATA):
                if route.text == "admin/" or route.name == "index":
                    leaked = _leaked(client.get("/admin/"), matrix)
                    if leaked:
                        matrix.fail(route, f"the index shows B's {leaked}")
                else:
                    matrix.fail(route, f"admin view {route.name!r}: the matrix does not know it")
        except Exception as error:
            matrix.fail(route, f"crashed: {type(error).__name__}: {error}")
    leaks = cross_organization_references()
    if leaks:
        matrix.fail("(database)", f"rows pointing into another organization: {leaks}")


def test_every_admin_page_refuses_another_organizations_ids(worlds):
    a, b = worlds
    matrix = Matrix(a, b)
    client = Client()
    client.force_login(a.user)
    run_admin_matrix(matrix, client)
    unregistered = sorted(
        m._meta.label for m in apps.get_models() if issubclass(m, TenantModel) and m not in admin.site._registry
    )
    assert not matrix.unexpected(), matrix.report() + f"\n(tenant models without an admin page: {unregistered})"


def test_a_route_the_matrix_cannot_fill_fails_it(worlds):
    """A new route with a parameter the matrix cannot fill is a failure, not a silent pass."""
    from django.urls import path

    from tests.core.test_rls import ProgramProbeViewSet

    pattern = path(
        "api/v1/orgs/<slug:org_slug>/mystery/<int:mystery_id>/", ProgramProbeViewSet.as_view({"get": "retrieve"})
    )
    matrix = Matrix(*worlds)
    _check_api_route(matrix, APIClient(), Route(pieces=(pattern,), pattern=pattern))
    assert matrix.failures == [
        "api/v1/orgs/<slug:org_slug>/mystery/<int:mystery_id>/: cannot fill <mystery_id> "
        "with a row of B (unknown model)"
    ]
    assert _model_by_param("run_id") is apps.get_model("programs", "Run")


def test_the_snapshot_notices_a_change_of_b(worlds):
    a, b = worlds
    matrix = Matrix(a, b)
    row = b.rows[apps.get_model("programs", "Program")]
    type(row)._base_manager.filter(pk=row.pk).update(name="Changed behind the matrix's back")
    matrix.check_b_unchanged("(probe)", "probe")
    assert matrix.failures and "programs.Program" in matrix.failures[0]
