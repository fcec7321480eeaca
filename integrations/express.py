"""The express lane: GET pages of tenant lists answered in front of Django's request cycle.

A page of a list costs the platform about twice the raw baseline's whole request in fixed
work of Django and DRF alone (twenty middlewares, URL resolving, the request, content
negotiation, permission and throttle objects, compiling the ORM query:
docs/performance.md). The common request of an integration, the next page of a list with
an API key, is answered here instead, by the same code the ordinary path runs for it:

* the key is read, the organization activated and the key checked by
  ``integrations.authentication`` (one statement), the scope by the key's own
  ``has_scope``, the rate limit by ``integrations.throttling``, the "last used" mark by
  ``integrations.services.api_key_touch``, all in one transaction under row-level
  security, as ``core.middleware`` and ``TenantViewSetMixin`` run them;
* the page statement is the one the view builds: compiled once per list, page size and
  first-or-later page from the viewset's own ``get_queryset``, filter backends, lean plan
  and cursor pagination (with placeholder values for the organization and the cursor
  position, which are then bound per request);
* the links, the envelope and the JSON come from DRF's cursor pagination, the lean plan
  (``core.api.lean``) and ``ApiJSONRenderer``;
* the response headers are the ones Django's middleware gave the last ordinary answer of
  the same list, language and scheme (the lane learns them from it; the request id and the
  length are the request's own), and the request is counted in the same Prometheus series.

Anything else goes to Django untouched: another method or path, other query parameters
(filters, ``ordering``, ``archived``, ``format``), cookies, another ``Accept``, a cursor
that is not a plain forward one, and every request that would not answer 200 (an unknown,
revoked or expired key, another organization, a missing scope, the rate limit reached, a
bad page size or cursor). Such a request is decided before anything is written, except
that the rate-limit count of a request already over its limit is counted again by the
ordinary path. Viewsets take part when they say so (``express_lists = True``) and keep
DRF's own ``list``; their queryset and lean expressions may depend on the organization's id
and the key's role, nothing else of the request (the statement is compiled once for all
organizations). ``tests/integrations/test_api_express.py`` compares status, headers and bytes with
the ordinary path for each of them. ``API_EXPRESS_LANE = False`` turns it off.
"""

from __future__ import annotations

import base64
import datetime
import inspect
import io
import logging
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.module_loading import import_string
from rest_framework import mixins
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from core import rls
from core.api import lean
from core.api.base import TenantViewSetMixin
from core.api.pagination import TenantCursorPagination, _ordering_field
from core.api.permissions import OrganizationRolePermission
from core.api.renderers import NATIVE_DATETIMES, ApiJSONRenderer
from core.logging import HEADER as REQUEST_ID_HEADER
from core.logging import clean_request_id, request_id_var
from core.models import Organization
from core.tenancy import tenant_guard
from integrations import services as integration_services
from integrations.authentication import ApiKeyAuthentication, api_key_for_token_activating, key_refusal
from integrations.throttling import ApiKeyRateThrottle, api_key_hit

logger = logging.getLogger(__name__)

_LIST_PATH = re.compile(r"^/api/v1/orgs/(?P<slug>[-a-zA-Z0-9_]+)/(?P<name>[-a-z0-9_]+)/$")
_QUERY_KEYS = frozenset({"page_size", "cursor"})
_ACCEPT = frozenset({"", "*/*", "application/json"})
_PER_REQUEST_HEADERS = frozenset({"content-length", REQUEST_ID_HEADER.lower()})
# Placeholder values the page statement is compiled with, bound per request.
_ORGANIZATION = 9_007_199_254_740_881
_POSITIONS = {
    models.IntegerField: 9_007_199_254_740_771,
    models.DateField: datetime.date(1, 1, 3),
}
_DATETIME_POSITION = datetime.datetime(1, 1, 3, 0, 0, 7, tzinfo=datetime.UTC)


class _Fallback(Exception):
    """The request is the ordinary path's."""


class _Compiled(Exception):
    """Raised by the capturing execute wrapper: the statement was compiled, not run."""


@dataclass(frozen=True)
class _Shape:
    sql: str
    params: tuple
    organization_at: tuple[int, ...]
    position_at: tuple[int, ...]
    position_field: models.Field | None
    ordering: tuple[str, ...]
    converters: dict
    compiler: object  # applies the converters (it reads only its connection)
    plan: lean.LeanPlan


class _FetchedPage:
    """Stands in for the queryset in DRF's ``CursorPagination.paginate_queryset``: the rows
    were read already (with the same ordering, position and limit), the pagination only
    computes the page, positions and links from them."""

    def __init__(self, rows: list[dict], model):
        self._rows = rows
        self.model = model
        self.db = DEFAULT_DB_ALIAS

    def order_by(self, *_terms):
        return self

    def filter(self, *_args, **_kwargs):
        return self

    def __getitem__(self, item):
        return self._rows[item]


class _Route:
    """One list endpoint (``/api/v1/orgs/<slug>/<name>/``) as the lane answers it."""

    def __init__(self, match):
        self.match = match
        self.view_class = match.func.cls
        self.initkwargs = match.func.initkwargs
        self.model = None
        self._shapes: dict[tuple, _Shape | None] = {}

    def view(self, request: Request, *, slug: str, organization, membership):
        view = self.view_class(**self.initkwargs)
        view.action_map = self.match.func.actions
        view.action = "list"
        view.request = request
        view.args = ()
        view.kwargs = {"org_slug": slug}
        view.format_kwarg = None
        view.headers = {}
        view.__dict__["_organization_and_membership"] = (organization, membership)
        return view

    def shape(self, key, membership, environ, *, page_size: int, positioned: bool) -> _Shape | None:
        cache_key = (page_size, positioned, membership.role)
        if cache_key not in self._shapes:
            self._shapes[cache_key] = self._compile(key, environ, page_size=page_size, positioned=positioned)
        return self._shapes[cache_key]

    def _compile(self, key, environ, *, page_size: int, positioned: bool) -> _Shape | None:
        """The view's page statement, compiled with placeholders (nothing runs)."""
        organization = Organization(pk=_ORGANIZATION, slug=key.organization.slug, name=key.organization.name)
        membership = key.membership_stand_in()
        membership.organization = organization
        query = {"page_size": str(page_size)}
        probe = Request(WSGIRequest({**environ, "QUERY_STRING": urlencode(query), "wsgi.input": io.BytesIO(b"")}))
        probe._user, probe._auth = key.service_user, key
        view = self.view(probe, slug=key.organization.slug, organization=organization, membership=membership)
        queryset = view.filter_queryset(view.get_queryset())
        serializer_class = view.get_serializer_class()
        plan = lean.lean_plan(serializer_class, serializer_class(context=view.get_serializer_context()), queryset)
        if plan is None:
            return None
        paginator = view.paginator
        ordering = paginator.get_ordering(probe, queryset, view)
        position_field = placeholder = None
        if positioned:
            position_field = _ordering_field(queryset.model, ordering[0])
            placeholder = _placeholder(position_field)
            if placeholder is None:
                return None
            query["cursor"] = _cursor(placeholder)
            probe = Request(WSGIRequest({**environ, "QUERY_STRING": urlencode(query), "wsgi.input": io.BytesIO(b"")}))
            probe._user, probe._auth = key.service_user, key
            view.request = probe
        values = lean.values_for(queryset, plan, view)
        captured = []

        def capture(execute, sql, params, many, context):
            captured.append((sql, tuple(params or ())))
            raise _Compiled

        connection = connections[queryset.db]
        try:
            with connection.execute_wrapper(capture):
                paginator.paginate_queryset(values, probe, view)
        except _Compiled:
            pass
        if len(captured) != 1:
            return None
        sql, params = captured[0]
        organization_at = tuple(index for index, value in enumerate(params) if value == _ORGANIZATION)
        position_at = tuple(index for index, value in enumerate(params) if positioned and value == placeholder)
        if not organization_at or len(position_at) != (1 if positioned else 0):
            return None
        compiler = values.query.get_compiler(using=queryset.db)
        compiler.setup_query()
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        self.model = queryset.model
        return _Shape(
            sql, params, organization_at, position_at, position_field, tuple(ordering), converters, compiler, plan
        )

    def fetch(self, shape: _Shape, *, organization_id: int, position) -> list[dict]:
        params = list(shape.params)
        for index in shape.organization_at:
            params[index] = organization_id
        for index in shape.position_at:
            params[index] = position
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute(shape.sql, params)
            names = [column[0] for column in cursor.description]  # DB-API: psycopg and sqlite3
            rows = cursor.fetchall()
        if shape.converters:
            rows = list(shape.compiler.apply_converters(rows, shape.converters))
        return [dict(zip(names, row, strict=True)) for row in rows]


def _placeholder(field):
    """The placeholder cursor position for an ordering field (ids and foreign keys arrive as the
    target's integer field: ``_ordering_field``), or None for a kind the lane does not bind."""
    if isinstance(field, models.DateTimeField):  # before DateField, its base
        return _DATETIME_POSITION
    return next((value for kind, value in _POSITIONS.items() if isinstance(field, kind)), None)


def _cursor(value) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return base64.b64encode(urlencode({"p": text}).encode("ascii")).decode("ascii")


def _eligible_view(view_class, actions) -> bool:

    return (
        issubclass(view_class, TenantViewSetMixin)
        and getattr(view_class, "express_lists", False)
        and view_class.lean_lists
        and (actions or {}).get("get") == "list"
        and inspect.unwrap(view_class.list) is mixins.ListModelMixin.list
        and not view_class.extra_permission_classes
        and list(view_class.throttle_classes) == [ApiKeyRateThrottle]
        and list(view_class.authentication_classes)[:1] == [ApiKeyAuthentication]
        and isinstance(view_class.pagination_class, type)
        and issubclass(view_class.pagination_class, TenantCursorPagination)
        and list(view_class.renderer_classes)[:1] == [ApiJSONRenderer]
    )


class ExpressLane:
    """WSGI middleware in front of Django's handler (``config/wsgi.py``)."""

    def __init__(self, application):
        self.application = application
        self._routes: dict[str, _Route | None] = {}
        self._headers: dict[tuple, list[tuple[str, str]]] = {}
        self._metrics = None

    def __call__(self, environ, start_response):
        ticket = self._ticket(environ)
        if ticket is None:
            return self.application(environ, start_response)
        name, route, slug, token = ticket
        request = WSGIRequest(environ)
        language = translation.get_language_from_request(request)
        headers_key = (route.match.view_name, language, request.is_secure())
        template = self._headers.get(headers_key)
        if template is None:
            return self._learn(headers_key, environ, start_response)
        started = time.perf_counter()
        request_id = clean_request_id(environ.get("HTTP_X_REQUEST_ID")) or uuid.uuid4().hex
        token_var = request_id_var.set(request_id)
        try:
            with translation.override(language):
                body = self._answer(route, request, slug=slug, token=token)
        except (_Fallback, DatabaseError):
            return self.application(environ, start_response)  # a database error is the ordinary path's to answer
        except Exception:
            # A list the lane cannot answer goes to Django from now on (logged once per process).
            logger.exception("express lane: %s goes to the ordinary path from now on", route.match.view_name)
            self._routes[name] = None
            return self.application(environ, start_response)
        finally:
            request_id_var.reset(token_var)
        headers = [
            (name, str(len(body)) if name.lower() == "content-length" else request_id)
            if name.lower() in _PER_REQUEST_HEADERS
            else (name, value)
            for name, value in template
        ]
        self._count(route, request, body, headers, started)
        start_response("200 OK", headers)
        return [body]

    # --- Which requests --------------------------------------------------------------

    def _ticket(self, environ):
        if environ.get("REQUEST_METHOD") != "GET" or not getattr(settings, "API_EXPRESS_LANE", True):
            return None
        found = _LIST_PATH.match(environ.get("PATH_INFO", ""))
        if found is None or environ.get("HTTP_COOKIE") or environ.get("HTTP_ACCEPT", "") not in _ACCEPT:
            return None
        parts = environ.get("HTTP_AUTHORIZATION", "").split()
        if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].startswith("ck_"):
            return None
        query = environ.get("QUERY_STRING", "")
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            names = [name for name, _value in pairs]
            if not set(names) <= _QUERY_KEYS or len(names) != len(set(names)):
                return None
        route = self._route(found["name"])
        if route is None:
            return None
        return found["name"], route, found["slug"], parts[1]

    def _route(self, name: str) -> _Route | None:
        if name not in self._routes:
            try:
                match = resolve(f"/api/v1/orgs/express/{name}/")
            except Resolver404:
                return None  # not remembered: names of no route would grow the table without end
            view_class = getattr(match.func, "cls", None)
            eligible = view_class is not None and _eligible_view(view_class, getattr(match.func, "actions", None))
            self._routes[name] = _Route(match) if eligible else None
        return self._routes[name]

    def _learn(self, headers_key, environ, start_response):
        """The ordinary path answers; a 200 teaches the lane this list's headers."""

        def learning_start_response(status, headers, exc_info=None):
            names = {name.lower() for name, _value in headers}
            if status.startswith("200 ") and "set-cookie" not in names and names >= _PER_REQUEST_HEADERS:
                self._headers[headers_key] = list(headers)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.application(environ, learning_start_response)

    # --- The answer ------------------------------------------------------------------

    def _answer(self, route: _Route, request: WSGIRequest, *, slug: str, token: str) -> bytes:

        try:
            request.get_host()
        except DisallowedHost:
            raise _Fallback from None
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            raise _Fallback  # the security middleware redirects
        drf_request = Request(request)
        paginator = route.view_class.pagination_class()
        try:
            page_size = paginator.get_page_size(drf_request)
            cursor = paginator.decode_cursor(drf_request)
        except APIException:
            raise _Fallback from None
        if cursor is not None and (cursor.offset or cursor.reverse or cursor.position is None):
            raise _Fallback
        signals.request_started.send(sender=self.__class__, environ=request.environ)
        try:
            with tenant_guard(), rls.request_scope(), transaction.atomic():
                key = api_key_for_token_activating(token=token, slug=slug)
                if key_refusal(key) is not None or key.organization.slug != slug:
                    raise _Fallback
                membership = key.membership_stand_in()
                if not self._allowed(route, key, drf_request, membership):
                    raise _Fallback
                shape = route.shape(
                    key, membership, request.environ, page_size=page_size, positioned=cursor is not None
                )
                if shape is None:
                    raise _Fallback
                paginator.get_ordering = lambda *_args: shape.ordering
                position = None
                if cursor is not None:
                    try:
                        if not paginator._position_is_safe(_FetchedPage([], route.model), drf_request, None):
                            raise _Fallback
                        position = shape.position_field.get_db_prep_value(
                            cursor.position, connections[DEFAULT_DB_ALIAS]
                        )
                    except (APIException, ValueError, TypeError):
                        raise _Fallback from None
                allowed, _seconds = api_key_hit(key)
                if not allowed:
                    raise _Fallback  # 429 with Retry-After: the ordinary path's
                integration_services.api_key_touch(api_key=key)
                rows = route.fetch(shape, organization_id=key.organization_id, position=position)
            page = paginator.paginate_queryset(_FetchedPage(rows, route.model), drf_request, None)
            data = paginator.get_paginated_response(shape.plan.rows(page)).data
            return ApiJSONRenderer().render(data, "application/json", {NATIVE_DATETIMES: True})
        finally:
            signals.request_finished.send(sender=self.__class__)

    @staticmethod
    def _allowed(route: _Route, key, drf_request, membership) -> bool:
        """What ``OrganizationRolePermission`` decides for a key's GET (role map, scope)."""
        permission = OrganizationRolePermission()
        drf_request._user, drf_request._auth = key.service_user, key
        view = route.view(drf_request, slug=key.organization.slug, organization=key.organization, membership=membership)
        return permission.has_permission(drf_request, view)

    # --- Metrics ---------------------------------------------------------------------

    def _count(self, route: _Route, request: WSGIRequest, body: bytes, headers, started: float) -> None:
        """The Prometheus series the middleware would have counted (core.metrics)."""
        if self._metrics is None:
            self._metrics = [
                middleware(lambda _request: None)
                for middleware in (import_string(path) for path in settings.MIDDLEWARE)
                if middleware.__module__.startswith("django_prometheus.")
            ]
        if not self._metrics:
            return
        response = HttpResponse(body, status=200)
        for name, value in headers:
            response[name] = value
        request.resolver_match = route.match
        for middleware in self._metrics:
            if hasattr(middleware, "process_request"):
                middleware.process_request(request)
        request.prometheus_before_middleware_event = started
        request.prometheus_after_middleware_event = started
        for middleware in self._metrics:
            if hasattr(middleware, "process_view"):
                middleware.process_view(request, route.match.func)
        for middleware in reversed(self._metrics):
            middleware.process_response(request, response)


def wrap(application):
    """``application`` behind the express lane (``config/wsgi.py``)."""
    return ExpressLane(application)
