"""The lean read path of list endpoints: rows as dicts, fields converted without model instances.

A list page usually costs more in Python than in PostgreSQL: a model instance per row,
then ``ModelSerializer.to_representation`` walking every field (attribute lookups,
``SkipField`` checks, relation wrappers). When a list's serializer only reads columns
of the row (or of rows it reaches through to-one relations), the page is read with
``values()`` instead and each column goes straight through its serializer field's own
``to_representation``: the same JSON, without the instances and the per-field
machinery.

The plan is made once per serializer class (and set of queryset annotations) by
:func:`lean_plan`; a serializer that cannot be read this way (a method field, a
nested or to-many field, a ``source`` that is a property, its own
``to_representation``) gets None, and the view keeps the ordinary path.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from rest_framework import serializers
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField, RelatedField
from rest_framework.settings import ISO_8601, api_settings

from core.api.serializers import RFC3339DateTimeField

# A datetime column answered as DRF's ISO 8601 (RFC 3339) output, converted per page (below).
DATETIME = object()
_MINUTE = datetime.timedelta(minutes=1)


def _datetime_converter(zone) -> Callable:
    """:class:`RFC3339DateTimeField`'s answer for aware datetimes, with the zone looked up once."""

    def convert(value):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            return RFC3339DateTimeField().to_representation(value)
        local = value.astimezone(zone)
        offset = local.utcoffset()
        if offset % _MINUTE:
            local = value.astimezone(datetime.UTC)
        text = local.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


@dataclass(frozen=True)
class LeanColumn:
    name: str  # the key of the answer
    key: str  # the key of the values() row
    convert: Callable | None  # None: the value as it is (ids)


@dataclass(frozen=True)
class LeanPlan:
    columns: tuple[LeanColumn, ...]

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(column.key for column in self.columns))

    def rows(self, rows: list[dict]) -> list[dict]:
        zone = timezone.get_current_timezone()  # once per page, not once per value
        columns = [
            (column.name, column.key, _datetime_converter(zone) if column.convert is DATETIME else column.convert)
            for column in self.columns
        ]
        out = []
        for row in rows:
            item = {}
            for name, key, convert in columns:
                value = row[key]
                item[name] = value if value is None or convert is None else convert(value)
            out.append(item)
        return out


_plans: dict[tuple, LeanPlan | None] = {}
# Fields whose answer is not a function of one column's value.
_NOT_COLUMNS = (
    serializers.SerializerMethodField,
    serializers.BaseSerializer,
    ManyRelatedField,
    serializers.ModelField,  # reads the instance
    serializers.FileField,  # answers a URL built from the file object
    serializers.HiddenField,
)


def _values_key(model, source_attrs: list[str], field, annotations) -> str | None:
    """The ``values()`` key that holds what ``field`` reads, or None when it is not a column."""
    if len(source_attrs) == 1 and source_attrs[0] in annotations:
        return None if isinstance(field, RelatedField) else source_attrs[0]
    current = model
    for index, part in enumerate(source_attrs):
        last = index == len(source_attrs) - 1
        try:
            model_field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if model_field.is_relation:
            if not (model_field.many_to_one or model_field.one_to_one) or model_field.auto_created:
                return None  # to-many, or a reverse relation
            if last:
                # Only a primary-key relation answers the column itself.
                return "__".join(source_attrs) if isinstance(field, PrimaryKeyRelatedField) else None
            current = model_field.related_model
        elif not last or isinstance(field, RelatedField) or model_field.attname != part:
            return None
    return "__".join(source_attrs)


def _converter(field) -> Callable | object | None:
    if (
        type(field) is RFC3339DateTimeField
        and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
        and not hasattr(field, "timezone")
        and settings.USE_TZ
    ):
        return DATETIME
    if isinstance(field, PrimaryKeyRelatedField):
        if field.pk_field is not None or type(field).to_representation is not PrimaryKeyRelatedField.to_representation:
            raise ValueError("custom primary-key representation")
        return None
    return field.to_representation


def lean_plan(serializer_class, serializer, queryset) -> LeanPlan | None:
    """How to answer ``serializer``'s rows from ``queryset.values()``, or None."""
    annotations = frozenset(queryset.query.annotations)
    cache_key = (serializer_class, queryset.model, annotations)
    if cache_key in _plans:
        return _plans[cache_key]
    plan = _build(serializer_class, serializer, queryset.model, annotations)
    _plans[cache_key] = plan
    return plan


def _build(serializer_class, serializer, model, annotations) -> LeanPlan | None:
    if not isinstance(serializer, serializers.Serializer) or isinstance(serializer, serializers.ListSerializer):
        return None
    if serializer_class.to_representation is not serializers.Serializer.to_representation:
        return None  # the serializer shapes its own answer
    columns = []
    for field in serializer._readable_fields:
        if isinstance(field, _NOT_COLUMNS):
            return None
        if field.source == "*" or type(field).get_attribute is not _base_get_attribute(field):
            return None
        key = _values_key(model, field.source_attrs, field, annotations)
        if key is None:
            return None
        try:
            columns.append(LeanColumn(name=field.field_name, key=key, convert=_converter(field)))
        except ValueError:
            return None
    return LeanPlan(columns=tuple(columns))


def _base_get_attribute(field):
    """The ``get_attribute`` a field of this kind has in DRF (a subclass's own one disqualifies it)."""
    if isinstance(field, RelatedField):
        return RelatedField.get_attribute
    return serializers.Field.get_attribute


def values_for(queryset, plan: LeanPlan, view):
    """``queryset.values()`` of the plan's keys and of what the cursor pagination orders by."""
    ordering_keys = []
    paginator = getattr(view, "paginator", None)
    if paginator is not None and hasattr(paginator, "get_ordering"):
        ordering_keys = [term.lstrip("-") for term in paginator.get_ordering(view.request, queryset, view)]
    keys = list(dict.fromkeys([*plan.keys, *ordering_keys]))
    # values() ignores select_related; prefetches would have nothing to attach to.
    return queryset.prefetch_related(None).values(*keys)


class LeanSerializer:
    """What ``get_serializer(page, many=True)`` gives on the lean path: ``.data`` only."""

    def __init__(self, plan: LeanPlan, rows: list[dict]):
        self._plan = plan
        self._rows = rows

    @property
    def data(self) -> list[dict]:
        return self._plan.rows(self._rows)
