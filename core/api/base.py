"""The one base viewset of every tenant endpoint (``/api/v1/orgs/<org_slug>/...``)."""

from __future__ import annotations

import inspect
from functools import cached_property

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from core import rls, selectors, services
from core.api import extensions, lean
from core.api.filters import BOOLEAN_MESSAGE, query_boolean
from core.api.parsers import ApiJSONParser
from core.api.permissions import OrganizationRolePermission, api_key_of
from core.api.renderers import NATIVE_DATETIMES, api_renderer_classes
from core.models import ArchivableTenantModel

_SEALED = ("get_queryset", "get_object", "get_permissions", "initial")


class TenantViewSetMixin:
    """Resolves the organization from the URL, checks the role, scopes every query.

    * ``organization`` and ``membership`` are resolved once per request; a user who
      is not a member gets 404, the same as for an organization that does not exist;
      an API key (``request.auth``) gets 404 on any organization but its own, and
      ``membership`` is then an unsaved stand-in (viewer, or program manager for a
      key with a write scope; ``membership.pk`` is None);
    * the role needed per HTTP method comes from ``role_map`` (see
      :class:`OrganizationRolePermission`); for API keys, the scope
      ``<api_scope_group>:read|write`` (the group defaults to the app's, see
      ``core.api.scopes``);
    * ``get_queryset`` is always ``model.objects.for_organization(organization)``,
      refined by the ``safely_get_queryset(queryset)`` hook; another organization's
      object therefore answers 404;
    * a POST with an ``Idempotency-Key`` header is answered once; retries get the
      first response (see ``integrations.idempotency``);
    * request bodies are JSON only (``parser_classes``): a form-encoded or multipart
      body answers 415, a body nested too deeply 400 (see ``core.api.parsers``).

    Subclasses may not override ``get_queryset``, ``get_object``, ``get_permissions``
    or ``initial``: defining one raises ``TypeError`` at import time. Use
    ``safely_get_queryset`` and ``extra_permission_classes`` instead.
    """

    model = None
    role_map: dict = {}
    # JSON only, whatever REST_FRAMEWORK's DEFAULT_PARSER_CLASSES say (docs/api.md: 415).
    parser_classes = (ApiJSONParser,)
    # orjson instead of DRF's json (core.api.renderers); the browsable API stays where configured.
    renderer_classes = api_renderer_classes()
    extra_permission_classes: tuple = ()
    # Resource group of API key scopes ("programs" → programs:read / programs:write).
    # None: the group of the app that defines the viewset.
    api_scope_group: str | None = None
    # Lists whose serializer reads only columns are answered from values() rows (core.api.lean);
    # False keeps the ordinary serializer path.
    lean_lists: bool = True
    # GET pages with an API key answered by integrations.express (the viewset keeps DRF's list;
    # tests/integrations/test_api_express.py compares the answers).
    express_lists: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _SEALED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} must not override {name}(); tenant scoping lives in TenantViewSetMixin "
                    "(use safely_get_queryset / extra_permission_classes)"
                )

    @cached_property
    def _organization_and_membership(self):
        slug = self.kwargs.get("org_slug", "")
        api_key = api_key_of(self.request)
        rls.activate_deferred_slug(self.request._request)  # no key authenticator took it
        if api_key is not None:
            if api_key.organization.slug != slug:
                raise Http404
            rls.activate(api_key.organization_id, user=self.request.user)  # database wall + audit actor
            return api_key.organization, api_key.membership_stand_in()
        found = selectors.organization_for_member(user=self.request.user, slug=slug)
        if found is None:
            raise Http404
        rls.activate(found[0].pk, user=self.request.user)  # database wall + audit actor
        return found

    @property
    def organization(self):
        return self._organization_and_membership[0]

    @property
    def membership(self):
        return self._organization_and_membership[1]

    @property
    def api_key(self):
        """The API key of this request, or None for people (session or token)."""
        return api_key_of(self.request)

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        view = super().as_view(actions, **initkwargs)
        # No ATOMIC_REQUESTS savepoint: dispatch() runs in the request's transaction (below).
        view._non_atomic_requests = {DEFAULT_DB_ALIAS}
        return view

    def dispatch(self, request, *args, **kwargs):
        # On PostgreSQL core.middleware already holds the request's transaction (its RLS
        # context lives in it); a savepoint inside it would cost two statements per request
        # and protect nothing the outer transaction does not. Elsewhere (SQLite, a view
        # served without the middleware) the view gets its own transaction, as
        # ATOMIC_REQUESTS would give it. DRF's set_rollback() marks whichever is innermost.
        if transaction.get_connection().in_atomic_block:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    def check_permissions(self, request):
        # Authentication first (401), then the organization (404), then the role (403).
        if request.user and request.user.is_authenticated:
            _ = self.organization
        super().check_permissions(request)

    def get_permissions(self):
        classes = [IsAuthenticated, OrganizationRolePermission, *self.extra_permission_classes]
        return [permission() for permission in classes]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        hooks = extensions.idempotency()
        if hooks is not None and request.method == "POST" and "Idempotency-Key" in request.headers:
            self._idempotency_record = hooks.begin(request=request, organization=self.organization)

    def handle_exception(self, exc):
        hooks = extensions.idempotency()
        if hooks is not None and isinstance(exc, hooks.replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            extensions.idempotency().finish(record=record, response=response)
        return response

    def paginate_queryset(self, queryset):
        # The lean read path (core.api.lean): a list whose serializer reads only columns is
        # paged as values() rows; get_serializer() below answers them without instances.
        self._lean = None
        if self.lean_lists and getattr(self, "action", None) == "list" and getattr(settings, "API_LEAN_LISTS", True):
            serializer_class = self.get_serializer_class()
            plan = lean.lean_plan(serializer_class, serializer_class(context=self.get_serializer_context()), queryset)
            if plan is not None:
                page = super().paginate_queryset(lean.values_for(queryset, plan, self))
                if page is not None:
                    self._lean = (plan, page)
                return page
        return super().paginate_queryset(queryset)

    def get_renderer_context(self):
        context = super().get_renderer_context()
        # A lean answer hands its datetimes to the renderer (core.api.lean, core.api.renderers).
        context[NATIVE_DATETIMES] = getattr(self, "_lean", None) is not None or getattr(self, "_lean_row", False)
        return context

    def get_serializer(self, *args, **kwargs):
        lean_page = getattr(self, "_lean", None)
        if lean_page is not None and args and args[0] is lean_page[1] and kwargs.get("many"):
            return lean.LeanSerializer(*lean_page)
        if args and isinstance(args[0], lean.LeanRow) and not kwargs.get("many") and "data" not in kwargs:
            return args[0]
        return super().get_serializer(*args, **kwargs)

    def _lean_retrieve(self) -> bool:
        """Whether this GET of one row may be answered from a values() row (core.api.lean):
        DRF's own ``retrieve`` (an override may need the instance) and no permission that
        looks at the object."""
        if not (self.lean_lists and getattr(self, "action", None) == "retrieve"):
            return False
        if not getattr(settings, "API_LEAN_LISTS", True):
            return False
        if inspect.unwrap(type(self).retrieve) is not mixins.RetrieveModelMixin.retrieve:
            return False
        return all(
            type(permission).has_object_permission is BasePermission.has_object_permission
            for permission in self.get_permissions()
        )

    def safely_get_queryset(self, queryset):
        """Hook: refine the organization's queryset (select_related, filters)."""
        return queryset

    def get_queryset(self):
        model = self.model or self.queryset.model
        if getattr(self, "swagger_fake_view", False):
            # Schema generation: no request organization; an empty queryset is enough.
            manager = model._default_manager
            all_rows = getattr(manager, "dangerously_all_organizations", manager.all)
            return all_rows().none()
        queryset = model.objects.for_organization(self.organization)
        if issubclass(model, ArchivableTenantModel) and getattr(self, "action", None) != "restore":
            # An archived (DELETEd) row is gone from the API, lists and ids alike (404), unless
            # ?archived=true asks for it; POST .../restore/ finds it to bring it back.
            try:
                wants_archived = query_boolean(self.request.query_params.get("archived"))
            except ValueError:
                # The schema says boolean: ?archived=2 is a field error, not "leave archived rows out".
                raise ValidationError({"archived": [BOOLEAN_MESSAGE]}, code="invalid") from None
            if not wants_archived:
                queryset = queryset.filter(archived_at__isnull=True)
        return self.safely_get_queryset(queryset)

    def get_object(self):
        # A malformed or out-of-range id is "no such object" (404), never a server
        # error: schema-driven clients send ids like 2**70.
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup_url_kwarg)
        if value is not None and self.lookup_field in ("pk", "id"):
            model = self.model or self.queryset.model
            pk_field = model._meta.pk
            try:
                number = int(value) if pk_field.get_internal_type().endswith("AutoField") else None
            except (TypeError, ValueError):
                raise Http404
            if number is not None and not (0 < number < 2**63):
                raise Http404
        if self._lean_retrieve():
            queryset = self.filter_queryset(self.get_queryset())
            serializer_class = self.get_serializer_class()
            plan = lean.lean_plan(serializer_class, serializer_class(context=self.get_serializer_context()), queryset)
            if plan is not None:
                rows = list(lean.values_for(queryset, plan, self).filter(**{self.lookup_field: value})[:1])
                if not rows:
                    raise Http404
                self._lean_row = True
                return lean.LeanRow(plan, rows[0])
        return super().get_object()

    def perform_destroy(self, instance):
        # Rows with history are archived, not deleted; POST .../restore/ brings them back.
        if isinstance(instance, ArchivableTenantModel):
            services.record_archive(obj=instance, user=self.request.user)
        else:
            instance.delete()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        context["organization"] = self.organization
        return context


class TenantModelViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    pass


class ArchivableTenantModelViewSet(TenantModelViewSet):
    """DELETE archives; ``POST .../{id}/restore/`` restores; ``?archived=true`` shows archived rows too.

    An archived row answers 404 to every other request (GET, PUT, PATCH, DELETE, actions)
    unless ``?archived=true`` is given, as a deleted row would.
    """

    @extend_schema(summary="Restore an archived row", request=None)  # no body: the schema showed the whole row
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        instance = self.get_object()
        services.record_restore(obj=instance, user=request.user)
        return Response(self.get_serializer(instance).data)


class TenantReadOnlyModelViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
