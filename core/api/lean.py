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
import functools
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, Func, QuerySet, TextField, Value
from django.utils import timezone
from rest_framework import serializers
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField, RelatedField
from rest_framework.settings import ISO_8601, api_settings

from core.api.serializers import RFC3339DateTimeField

# A datetime column answered as DRF's ISO 8601 (RFC 3339) output, converted per page (below).
DATETIME = object()
_MINUTE = datetime.timedelta(minutes=1)


_WEEK = datetime.timedelta(weeks=1)


@functools.lru_cache(maxsize=64)
def whole_minute_offsets_from(zone) -> datetime.datetime:
    """An instant from which every offset of ``zone`` is a whole number of minutes.

    Before standard time, zones kept local mean time (``Asia/Seoul`` until 1908:
    ``+08:27:52``); RFC 3339 cannot write such an offset (:class:`RFC3339DateTimeField`
    answers UTC for those instants). Found once per zone by looking at it every week from
    1850 to 1990; the time-zone database has no such offset after 1972.
    """
    instant = datetime.datetime(1850, 1, 1, tzinfo=datetime.UTC)
    last = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
    since = instant
    while instant < last:
        offset = instant.astimezone(zone).utcoffset()
        if offset is not None and offset % _MINUTE:
            since = instant + _WEEK
        instant += _WEEK
    return since


def _datetime_converter(zone) -> Callable:
    """:class:`RFC3339DateTimeField`'s answer for aware datetimes, with the zone looked up once.

    From :func:`whole_minute_offsets_from` on, the answer is the datetime in ``zone``, which
    the renderer writes as DRF would (orjson, ``Z`` for UTC: ``native_datetimes`` in the
    renderer context, see ``core.api.renderers``); earlier instants and naive values take
    the field's own path and answer text.
    """
    since = whole_minute_offsets_from(zone)

    def exact(value):
        if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
            return RFC3339DateTimeField().to_representation(value)
        local = value.astimezone(zone)
        offset = local.utcoffset()
        if offset % _MINUTE:
            local = value.astimezone(datetime.UTC)
        text = local.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def convert(value):
        try:
            if value >= since:
                return value.astimezone(zone)
        except TypeError:  # naive, or not a datetime
            pass
        return exact(value)

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
        """The answer of each ``values()`` row."""
        zone = timezone.get_current_timezone()  # once per page, not once per value
        columns = []
        for column in self.columns:
            if column.convert is DATETIME:
                columns.append((column.name, column.key, _datetime_converter(zone)))
            else:
                columns.append((column.name, column.key, column.convert))
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


def _model_field(model, key: str):
    """The model field a ``values()`` key reads (``run__name``), or None (an annotation)."""
    current, found = model, None
    for part in key.split("__"):
        try:
            found = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        current = found.related_model if found.is_relation else current
    return found


# DRF fields whose to_representation is a builtin applied to the value (fields.py):
# CharField's is str(value), IntegerField's int(value). Subclasses that keep it count too
# (``StrictCharField`` only checks input).
_BUILTIN = {
    serializers.CharField.to_representation: str,
    serializers.IntegerField.to_representation: int,
}
_TEXT_COLUMNS = ("CharField", "TextField", "SlugField", "EmailField", "URLField")


def _plain_converter(field, model_field) -> Callable | None | object:
    """A cheaper convert with the same answer for the column's values, or ``_ORDINARY``."""
    method = type(field).to_representation
    if method in _BUILTIN:
        return _BUILTIN[method]
    internal = model_field.get_internal_type() if model_field is not None and not model_field.is_relation else ""
    iso_dates = str(getattr(field, "format", api_settings.DATE_FORMAT)).lower() == ISO_8601
    if method is serializers.DateField.to_representation and internal == "DateField" and iso_dates:
        return datetime.date.isoformat  # a date is never falsy; DRF answers value.isoformat()
    # A text column's values are str; with choices that map each string to itself DRF
    # answers choice_strings_to_values.get(value, value), the value itself.
    if (
        method is serializers.ChoiceField.to_representation
        and internal in _TEXT_COLUMNS
        and all(key == value for key, value in field.choice_strings_to_values.items())
    ):
        return None
    if method is serializers.BooleanField.to_representation and internal == "BooleanField":
        return None  # psycopg reads bool; DRF answers True / False for them
    return _ORDINARY


_ORDINARY = object()


def _converter(field, model_field=None) -> Callable | object | None:
    plain = _plain_converter(field, model_field)
    if plain is not _ORDINARY:
        return plain
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
    vendor = connections[queryset.db].vendor
    cache_key = (serializer_class, queryset.model, annotations, vendor)
    if cache_key in _plans:
        return _plans[cache_key]
    if getattr(serializer_class, "lean_fields", None) and vendor != "postgresql":
        plan = None  # its expressions are PostgreSQL's
    else:
        plan = _build(serializer_class, serializer, queryset.model, annotations)
    _plans[cache_key] = plan
    return plan


def _build(serializer_class, serializer, model, annotations) -> LeanPlan | None:
    if not isinstance(serializer, serializers.Serializer) or isinstance(serializer, serializers.ListSerializer):
        return None
    if serializer_class.to_representation is not serializers.Serializer.to_representation:
        return None  # the serializer shapes its own answer
    columns = []
    # Fields the serializer answers with an SQL expression of its own (``lean_fields``, below).
    expressed = getattr(serializer_class, "lean_fields", {})
    for field in serializer._readable_fields:
        if field.field_name in expressed:
            columns.append(
                LeanColumn(
                    name=field.field_name, key=_expression_key(field.field_name), convert=expressed[field.field_name]
                )
            )
            continue
        if isinstance(field, _NOT_COLUMNS):
            return None
        if field.source == "*" or type(field).get_attribute is not _base_get_attribute(field):
            return None
        key = _values_key(model, field.source_attrs, field, annotations)
        if key is None:
            return None
        try:
            columns.append(
                LeanColumn(name=field.field_name, key=key, convert=_converter(field, _model_field(model, key)))
            )
        except ValueError:
            return None
    return LeanPlan(columns=tuple(columns))


def _base_get_attribute(field):
    """The ``get_attribute`` a field of this kind has in DRF (a subclass's own one disqualifies it)."""
    if isinstance(field, RelatedField):
        return RelatedField.get_attribute
    return serializers.Field.get_attribute


def _expression_key(name: str) -> str:
    return f"lean_expression_{name}"


def values_for(queryset, plan: LeanPlan, view) -> QuerySet:
    """``queryset.values()`` of the plan's keys and of what the cursor pagination orders by;
    the serializer's ``lean_fields`` are read from its ``lean_expressions(organization)``."""
    ordering_keys = []
    paginator = getattr(view, "paginator", None)
    if paginator is not None and hasattr(paginator, "get_ordering"):
        ordering_keys = [term.lstrip("-") for term in paginator.get_ordering(view.request, queryset, view)]
    expressions = {}
    serializer_class = view.get_serializer_class()
    if getattr(serializer_class, "lean_fields", None):
        for name, expression in serializer_class.lean_expressions(view.organization).items():
            expressions[_expression_key(name)] = expression
    keys = [key for key in plan.keys if key not in expressions]
    keys = list(dict.fromkeys([*keys, *ordering_keys]))
    # values() ignores select_related; prefetches would have nothing to attach to.
    return queryset.prefetch_related(None).values(*keys, **expressions)


class LeanRow:
    """One row on the lean path (a GET of one object): what ``get_object()`` gives and
    ``get_serializer(row)`` hands back, answering ``.data`` like the serializer."""

    def __init__(self, plan: LeanPlan, row: dict):
        self._plan = plan
        self._row = row

    @property
    def data(self) -> dict:
        return self._plan.rows([self._row])[0]


class LeanSerializer:
    """What ``get_serializer(page, many=True)`` gives on the lean path: ``.data`` only."""

    def __init__(self, plan: LeanPlan, rows: list[dict]):
        self._plan = plan
        self._rows = rows

    @property
    def data(self) -> list[dict]:
        return self._plan.rows(self._rows)


# --- Helpers for a serializer's ``lean_fields`` (PostgreSQL only; SQLite keeps the ordinary path).
#
# A serializer with to-many fields may still be read the lean way, in the page's one statement:
# it names those fields and how their values convert (``lean_fields = {"name": convert}``) and
# gives a classmethod ``lean_expressions(organization) -> {"name": expression}`` built with
# these helpers on the related rows (correlated to the page's row by ``OuterRef("pk")``).
# tests/core/test_api_lean.py checks that the answer is byte for byte the serializer's.


def json_objects(queryset, **fields):
    """A to-many field answered as a list of objects: one JSON text per related row, keys in
    the order given (``json_build_object``, not jsonb, which would reorder them)."""
    from django.contrib.postgres.expressions import ArraySubquery

    arguments = []
    for name, source in fields.items():
        arguments += [Value(name), F(source)]
    return ArraySubquery(
        queryset.values(
            json=Func(
                *arguments,
                function="json_build_object",
                template="%(function)s(%(expressions)s)::text",
                output_field=TextField(),
            )
        )
    )


def json_list(texts: list[str]) -> list:
    """The convert of a :func:`json_objects` field."""
    return [orjson.loads(text) for text in texts]


def id_array(queryset, column: str):
    """A to-many field answered as a list of ids (``int[]``, read by psycopg as a list)."""
    from django.contrib.postgres.expressions import ArraySubquery

    return ArraySubquery(queryset.values(column))
