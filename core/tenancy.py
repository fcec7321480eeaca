"""The tenancy wall: scoped querysets and the guard against unscoped reads.

Every tenant-owned row carries ``organization_id``. Code reads tenant rows through
``Model.objects.for_organization(org)`` (or a relation of an object that was itself
read that way). While the guard is armed (each web request, each Celery task), a
tenant queryset that was never scoped raises :class:`UnscopedTenantQuery` when it is
evaluated, instead of silently returning every organization's rows.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

_guard_armed: contextvars.ContextVar[bool] = contextvars.ContextVar("tenant_guard_armed", default=False)


class UnscopedTenantQuery(RuntimeError):
    """A tenant queryset was evaluated without being scoped to an organization."""


@contextmanager
def tenant_guard() -> Iterator[None]:
    """Arm the unscoped-query guard for the duration of the block (request, task)."""
    token = _guard_armed.set(True)
    try:
        yield
    finally:
        _guard_armed.reset(token)


def guard_is_armed() -> bool:
    return _guard_armed.get()


def _is_tenant_object(value: Any) -> bool:
    from core.models import Organization, TenantModel

    return isinstance(value, (TenantModel, Organization))


def _kwargs_scope(kwargs: dict[str, Any]) -> bool:
    """True when a filter pins the rows to an organization or to scoped parents.

    Filtering by an organization, or by tenant objects (which were themselves read
    through a scoped query), is scoped. Django's related managers and prefetches
    filter this way, so ``run.enrollments.all()`` is allowed.
    """
    for key, value in kwargs.items():
        if key.split("__", 1)[0] in ("organization", "organization_id"):
            return True
        if _is_tenant_object(value):
            return True
        if isinstance(value, (list, tuple, set, frozenset)) and value and all(_is_tenant_object(v) for v in value):
            return True
    return False


class TenantQuerySet(models.QuerySet):
    """A queryset that knows whether it has been scoped to one organization."""

    _tenant_scoped = False
    # Set by dangerously_all_organizations(): the statement also passes the database
    # wall (PostgreSQL row-level security, see core.rls), for that statement only.
    _all_organizations = False

    def _clone(self):
        clone = super()._clone()
        clone._tenant_scoped = self._tenant_scoped
        clone._all_organizations = self._all_organizations
        return clone

    def _database_wall(self):
        if self._all_organizations:
            from core import rls

            return rls.all_organizations_for_statement(self.db)
        return nullcontext()

    def for_organization(self, organization) -> TenantQuerySet:
        """The rows of one organization: the only normal way in."""
        if organization is None:
            raise UnscopedTenantQuery("for_organization() needs an organization, got None")
        clone = self.filter(organization=organization)
        clone._tenant_scoped = True
        return clone

    def dangerously_all_organizations(self) -> TenantQuerySet:
        """Every organization's rows. For platform superusers and maintenance only."""
        clone = self._chain()
        clone._tenant_scoped = True
        clone._all_organizations = True
        return clone

    def _add_hints(self, **hints):
        # Django's related managers and prefetches hint the instance they belong to;
        # that instance was itself read through a scoped query.
        super()._add_hints(**hints)
        if _is_tenant_object(hints.get("instance")):
            self._tenant_scoped = True

    def _filter_or_exclude(self, negate, args, kwargs):
        # Related managers of many-to-many fields and prefetches use a "sticky" filter
        # on the ids of objects that were read through a scoped query.
        sticky = self._sticky_filter
        clone = super()._filter_or_exclude(negate, args, kwargs)
        if not negate and (sticky or _kwargs_scope(kwargs)):
            clone._tenant_scoped = True
        return clone

    def _check_scoped(self) -> None:
        if not self._tenant_scoped and guard_is_armed():
            raise UnscopedTenantQuery(
                f"Unscoped query on {self.model._meta.label}: use "
                f"{self.model.__name__}.objects.for_organization(organization)"
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._check_scoped()
            with self._database_wall():
                super()._fetch_all()
            return
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._check_scoped()
        if self._all_organizations:
            return self._iterator_all_organizations(*args, **kwargs)
        return super().iterator(*args, **kwargs)

    def _iterator_all_organizations(self, *args, **kwargs):
        with self._database_wall():
            yield from super().iterator(*args, **kwargs)

    def count(self):
        if self._result_cache is not None:
            return super().count()
        self._check_scoped()
        with self._database_wall():
            return super().count()

    def exists(self):
        if self._result_cache is not None:
            return super().exists()
        self._check_scoped()
        with self._database_wall():
            return super().exists()

    def aggregate(self, *args, **kwargs):
        self._check_scoped()
        with self._database_wall():
            return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._check_scoped()
        with self._database_wall():
            return super().update(**kwargs)

    def delete(self):
        self._check_scoped()
        with self._database_wall():
            return super().delete()

    def insert_new(self, objs: list, *, batch_size: int = 500) -> list[int]:
        """Insert ``objs``, skipping rows that conflict with a unique key; return the new ids.

        ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (PostgreSQL, SQLite 3.35+):
        unlike ``bulk_create(ignore_conflicts=True)`` it tells what this statement
        itself inserted, not what a concurrent writer added meanwhile.
        """
        from django.db import connections
        from django.db.models.constants import OnConflict

        if not objs:
            return []
        meta = self.model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        connection = connections[self.db]
        size = max(1, min(batch_size, connection.ops.bulk_batch_size(fields, objs) or batch_size))
        inserted: list[int] = []
        for start in range(0, len(objs), size):
            rows = self._insert(
                objs[start : start + size], fields=fields, returning_fields=[meta.pk], on_conflict=OnConflict.IGNORE
            )
            inserted.extend(row[0] for row in rows or [])
        return inserted


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    use_in_migrations = False


def require_same_organization(organization, **objects) -> None:
    """The one check a service makes on the rows it is handed: every one is the organization's own.

    Refuses with a ``ValidationError`` whose field errors are named after the arguments
    (``require_same_organization(org, run=run, mentor=mentor)`` → ``{"mentor": [...]}``), so
    an API answers a 400 problem with the field and a form shows it on the field. ``None``
    values are skipped (optional arguments).
    """
    errors = {
        name: _("This %(what)s does not belong to this organization.") % {"what": obj._meta.verbose_name}
        for name, obj in objects.items()
        if obj is not None and obj.organization_id != organization.pk
    }
    if errors:
        raise ValidationError(errors)
