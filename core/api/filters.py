"""Filter backends of every tenant endpoint: bad values answer 400 or are ignored, never 500."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import OrderingFilter

from core.api.pagination import _field_path_is_valid
from core.models import TenantModel


class SafeOrderingFilter(OrderingFilter):
    """``?ordering=a,-b`` restricted to the view's ``ordering_fields`` that are real model fields.

    DRF's default allows every serializer field, including computed ones that the
    database cannot order by (a 500). Unknown or unsortable terms are dropped, as DRF
    does for terms outside ``ordering_fields``.
    """

    def remove_invalid_fields(self, queryset, fields, view, request):
        terms = super().remove_invalid_fields(queryset, fields, view, request)
        annotations = set(queryset.query.annotations)
        return [term for term in terms if term.lstrip("-") in annotations or _field_path_is_valid(queryset.model, term)]

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, (list, tuple)) and fields:
            names = ", ".join(f"`{name if isinstance(name, str) else name[0]}`" for name in fields)
            parameters[0]["description"] = (
                f"Comma-separated fields to sort by; prefix `-` for descending. One of: {names}."
            )
        return parameters


class TenantFilterBackend(DjangoFilterBackend):
    """django-filter, scoped to the organization of the URL.

    Invalid values answer 400 field errors. Filters on relations to tenant models
    (``filterset_fields = ["run"]``) accept only the organization's rows: django-filter
    builds them on ``Model.objects.all()``, which the tenancy guard refuses, and which
    would let a client probe another organization's ids.
    """

    raise_exception = True

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        organization = getattr(view, "organization", None) if hasattr(view, "_organization_and_membership") else None
        if filterset is None or organization is None:
            return filterset
        for filter_ in filterset.filters.values():
            related = getattr(filter_, "queryset", None)
            if related is None:
                continue
            if callable(related):
                filter_.queryset = _scoped_callable(related, organization)
            elif isinstance(related, QuerySet) and issubclass(related.model, TenantModel):
                filter_.queryset = related.for_organization(organization)
        return filterset


def _scoped_callable(make_queryset, organization):
    def scoped(request):
        related = make_queryset(request)
        if isinstance(related, QuerySet) and issubclass(related.model, TenantModel):
            return related.for_organization(organization)
        return related

    return scoped
