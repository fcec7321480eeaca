"""The one base viewset of every tenant endpoint (``/api/v1/orgs/<org_slug>/...``)."""

from __future__ import annotations

from functools import cached_property

from django.http import Http404
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core import selectors, services
from core.api.permissions import OrganizationRolePermission
from core.models import ArchivableTenantModel

_SEALED = ("get_queryset", "get_object", "get_permissions", "initial")


class TenantViewSetMixin:
    """Resolves the organization from the URL, checks the role, scopes every query.

    * ``organization`` and ``membership`` are resolved once per request; a user who
      is not a member gets 404, the same as for an organization that does not exist;
    * the role needed per HTTP method comes from ``role_map`` (see
      :class:`OrganizationRolePermission`);
    * ``get_queryset`` is always ``model.objects.for_organization(organization)``,
      refined by the ``safely_get_queryset(queryset)`` hook; another organization's
      object therefore answers 404.

    Subclasses may not override ``get_queryset``, ``get_object``, ``get_permissions``
    or ``initial``: defining one raises ``TypeError`` at import time. Use
    ``safely_get_queryset`` and ``extra_permission_classes`` instead.
    """

    model = None
    role_map: dict = {}
    extra_permission_classes: tuple = ()

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
        found = selectors.organization_for_member(user=self.request.user, slug=self.kwargs.get("org_slug", ""))
        if found is None:
            raise Http404
        return found

    @property
    def organization(self):
        return self._organization_and_membership[0]

    @property
    def membership(self):
        return self._organization_and_membership[1]

    def check_permissions(self, request):
        # Authentication first (401), then the organization (404), then the role (403).
        if request.user and request.user.is_authenticated:
            _ = self.organization
        super().check_permissions(request)

    def get_permissions(self):
        classes = [IsAuthenticated, OrganizationRolePermission, *self.extra_permission_classes]
        return [permission() for permission in classes]

    def safely_get_queryset(self, queryset):
        """Hook: refine the organization's queryset (select_related, filters)."""
        return queryset

    def get_queryset(self):
        model = self.model or self.queryset.model
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no organization
            return model.objects.none()
        queryset = model.objects.for_organization(self.organization)
        wants_archived = self.request.query_params.get("archived", "").lower() in ("true", "1", "yes")
        if issubclass(model, ArchivableTenantModel) and getattr(self, "action", None) == "list" and not wants_archived:
            queryset = queryset.filter(archived_at__isnull=True)
        return self.safely_get_queryset(queryset)

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
    """DELETE archives; ``POST .../{id}/restore/`` restores; ``?archived=true`` lists archived rows too."""

    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        instance = self.get_object()
        services.record_restore(obj=instance, user=request.user)
        return Response(self.get_serializer(instance).data)


class TenantReadOnlyModelViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
