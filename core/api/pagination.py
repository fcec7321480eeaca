"""Cursor pagination for every list endpoint.

Cursors stay correct while rows are added (an integration that pages through
enrollments never sees one twice or misses one), cost the same on page 1 and page
1000, and do not leak row counts. They need a deterministic ordering: the view's
``?ordering=`` / ``ordering``, else the queryset's own ``order_by``, else newest
first; ``id`` is always appended as a tiebreaker.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, connections, models, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

MAX_PAGE_SIZE = 100
SAFE_INTEGER_FIELDS = (models.AutoField, models.BigAutoField, models.IntegerField, models.ForeignKey)


def _ordering_field(model, term: str):
    """The model field a cursor ordering term ends at (``run_id`` is the ``run`` foreign key), or None."""
    current, field = model, None
    for part in term.lstrip("-").split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            field = next((f for f in current._meta.concrete_fields if f.attname == part), None)
            if field is None:
                return None
        current = field.related_model if field.is_relation else current
    if field is not None and field.is_relation:
        target = field.target_field
        return target if isinstance(target, SAFE_INTEGER_FIELDS) else None
    return field


DEFAULT_PAGE_SIZE = 50


def _field_path_is_valid(model, term: str) -> bool:
    """True when ``term`` (``-a__b``) names a field reachable from ``model``."""
    parts = term.lstrip("-").split("__")
    current = model
    for index, part in enumerate(parts):
        if part == "pk":
            part = current._meta.pk.name
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        last = index == len(parts) - 1
        if field.is_relation:
            if field.many_to_many or field.one_to_many:
                return False  # ordering by a to-many relation duplicates rows
            if last:
                return True
            current = field.related_model
        elif not last:
            return False
    return True


def _normalise_term(model, term: str) -> str:
    """``run`` (a foreign key) orders by the related model's ordering; use ``run_id``."""
    descending = term.startswith("-")
    name = term.lstrip("-")
    if "__" not in name:
        if name == "pk":
            name = model._meta.pk.attname
        else:
            field = model._meta.get_field(name)
            if field.is_relation:
                name = field.attname
    return f"{'-' if descending else ''}{name}"


class TenantCursorPagination(CursorPagination):
    """Cursor pagination with ``?page_size=`` (1 to 100) and a safe, unique ordering.

    A ``page_size`` that is not a whole number from 1 to ``max_page_size`` answers 400
    with a field error on ``page_size`` (DRF would silently use the default or the
    maximum instead, and the client would never learn that its value was ignored).
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-id",)
    invalid_cursor_message = _("Invalid cursor.")
    invalid_page_size_message = _("Send a whole number from %(min)d to %(max)d.")

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or not (1 <= int(text) <= self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [self.invalid_page_size_message % {"min": 1, "max": self.max_page_size}]},
                code="invalid",
            )
        return int(text)

    def get_ordering(self, request, queryset, view):
        model = queryset.model
        terms: list[str] = []
        for filter_class in getattr(view, "filter_backends", ()):
            if hasattr(filter_class, "get_ordering"):
                terms = list(filter_class().get_ordering(request, queryset, view) or ())
                break
        if not terms:
            terms = [term for term in queryset.query.order_by if isinstance(term, str)]
        terms = [term for term in terms if _field_path_is_valid(model, term)]
        if not terms:
            terms = list(self.ordering)
        terms = [_normalise_term(model, term) for term in terms]
        pk_names = {model._meta.pk.attname, model._meta.pk.name, "pk"}
        if not any(term.lstrip("-") in pk_names for term in terms):
            # A unique tiebreaker in the same direction as the first field.
            terms.append(("-" if terms[0].startswith("-") else "") + model._meta.pk.attname)
        return tuple(terms)

    def _get_position_from_instance(self, instance, ordering):
        value = instance
        term = ordering[0].lstrip("-")
        if isinstance(instance, dict) and term in instance:  # a values() row (core.api.lean)
            return str(instance[term])
        for part in term.split("__"):
            value = value[part] if isinstance(value, dict) else getattr(value, part, None)
            if value is None:
                break
        return str(value)

    def paginate_queryset(self, queryset, request, view=None):
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded or self._position_is_safe(queryset, request, view):
            return super().paginate_queryset(queryset, request, view)
        # A tampered cursor carries a position of the wrong type ("abc" for an id):
        # Django raises while building or running the query. That is a bad cursor,
        # not a server error; the savepoint keeps the request's transaction usable.
        try:
            with transaction.atomic():
                return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError, DatabaseError):
            raise NotFound(self.invalid_cursor_message)

    def _position_is_safe(self, queryset, request, view) -> bool:
        """Whether the cursor's position is checked here, so the page needs no savepoint.

        Most lists order by an id or a date: a position of the wrong type or out of range
        answers 404 (invalid cursor) before any query. Other orderings are left to the
        database, inside a savepoint (below).
        """
        cursor = self.decode_cursor(request)  # a malformed cursor is a 404 already
        if cursor is None or cursor.position is None:
            return True
        field = _ordering_field(queryset.model, self.get_ordering(request, queryset, view)[0])
        if field is None:
            return False
        position = cursor.position
        try:
            if isinstance(field, SAFE_INTEGER_FIELDS):
                if not (position.lstrip("-").isascii() and position.lstrip("-").isdigit()):
                    raise ValueError(position)
                low, high = connections[queryset.db].ops.integer_field_range(field.get_internal_type())
                if not (low is None or low <= int(position)) or not (high is None or int(position) <= high):
                    raise OverflowError(position)
                return True
            if isinstance(field, (models.DateField, models.DateTimeField)):  # DateTimeField is a DateField
                if field.to_python(position) is None:
                    raise ValueError(position)
                return True
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            raise NotFound(self.invalid_cursor_message) from None
        return False

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
                parameter["description"] = f"Rows per page (default {self.page_size}, at most {self.max_page_size})."
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = "Opaque cursor from the `next` or `previous` link of the previous page."
        return parameters


# Kept for code that imported the old name.
DefaultPagination = TenantCursorPagination
