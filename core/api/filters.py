"""Filter backends of every tenant endpoint: bad values answer 400 or are ignored, never 500."""

from __future__ import annotations

import datetime

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import filters as django_filters
from django_filters.filterset import BaseFilterSet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field
from rest_framework.filters import OrderingFilter

from core.api.pagination import _field_path_is_valid
from core.models import TenantModel

TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})
BOOLEAN_MESSAGE = _("Send true or false.")


def query_boolean(value: str | None) -> bool | None:
    """A boolean query parameter: None when empty or absent, ValueError when it is not a boolean."""
    if value is None or value.strip() == "":
        return None
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(value)


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or 1/0, yes/no); empty means no filter; anything else is a field error.

    django-filter's own widget reads every other value (``2``, ``null``) as "no filter",
    so ``?archived=2`` used to answer as if nothing had been asked.
    """

    widget = forms.TextInput
    default_error_messages = {"invalid": BOOLEAN_MESSAGE}

    def to_python(self, value):
        if isinstance(value, bool):
            return value
        try:
            return query_boolean(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        pass


class _UTCDateTimeMixin:
    """A datetime filter value in UTC (its offset may be anything RFC 3339 allows, e.g. ``+20:01``).

    PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement out of range"): a
    schema-valid ``?silent_since=…+20:01`` was a 500. An instant that UTC cannot hold
    (year 1 with a positive offset) is a field error.
    """

    def to_python(self, value):
        result = super().to_python(value)
        if result is None or result.tzinfo is None:
            return result
        try:
            return result.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


_utc_fields: dict[type, type] = {}


def _utc_field_class(field_class: type) -> type:
    if field_class not in _utc_fields:
        _utc_fields[field_class] = type(f"UTC{field_class.__name__}", (_UTCDateTimeMixin, field_class), {})
    return _utc_fields[field_class]


def _integer_model_field(model, field_name: str) -> bool:
    field = get_model_field(model, field_name)
    return isinstance(field, models.IntegerField | models.AutoField) and not field.is_relation


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

    def filter_queryset(self, request, queryset, view):
        # A request that names none of the filters is filtered by none of them: skip building
        # the FilterSet and its form (a sixth of a list request's time in the profile).
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and _names_no_filter(filterset_class, request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        organization = getattr(view, "organization", None) if hasattr(view, "_organization_and_membership") else None
        if filterset is None or organization is None:
            return filterset
        for filter_ in filterset.filters.values():
            _strict_values(filter_, filterset._meta.model)
            related = getattr(filter_, "queryset", None)
            if related is None:
                continue
            if callable(related):
                filter_.queryset = _scoped_callable(related, organization)
            elif isinstance(related, QuerySet) and issubclass(related.model, TenantModel):
                filter_.queryset = related.for_organization(organization)
        return filterset


def _names_no_filter(filterset_class, params) -> bool:
    """No query parameter is one of the FilterSet's, and the FilterSet filters only by its parameters."""
    if filterset_class.filter_queryset is not BaseFilterSet.filter_queryset:
        return False
    names = set()
    for name, filter_ in filterset_class.base_filters.items():
        if filter_.extra.get("required"):
            return False  # its absence is a 400
        names.add(name)
        names.update(f"{name}{suffix}" for suffix in ("_min", "_max", "_after", "_before", "_0", "_1"))
    return not any(key in names or key.split("__")[0] in names for key in params)


def _strict_values(filter_, model) -> None:
    """Values the schema calls boolean or integer are checked as such (a 400, not a silent "no filter").

    A boolean filter takes ``true``/``false`` only (:class:`StrictBooleanField`); a number
    filter on an integer column takes whole numbers (django-filter reads ``0.5`` as a
    decimal, which matches nothing, while the schema says integer); a datetime filter
    compares in UTC (:class:`_UTCDateTimeMixin`).
    """
    if isinstance(filter_.field_class, type) and issubclass(filter_.field_class, forms.DateTimeField):
        if not issubclass(filter_.field_class, _UTCDateTimeMixin):
            filter_.field_class = _utc_field_class(filter_.field_class)
    elif isinstance(filter_, django_filters.BooleanFilter):
        filter_.field_class = StrictBooleanField
        filter_.extra.pop("widget", None)
    elif (
        type(filter_) is django_filters.NumberFilter
        and model is not None
        and _integer_model_field(model, filter_.field_name)
    ):
        filter_.field_class = forms.IntegerField


def _scoped_callable(make_queryset, organization):
    def scoped(request):
        related = make_queryset(request)
        if isinstance(related, QuerySet) and issubclass(related.model, TenantModel):
            return related.for_organization(organization)
        return related

    return scoped
