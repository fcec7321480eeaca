"""One row of every tenant model for an organization, built generically.

Each row is made by the app's factory in ``tests/factories/<app>.py`` when there is
one, with every tenant foreign key given explicitly (so that parents are the same
organization's rows), else by a generic creator that fills required fields by type.
A model that neither can build is reported by name: add a factory for it.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import pkgutil
import uuid
from dataclasses import dataclass, field

import factory
from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from core.models import Membership, Organization, TenantModel, User


def tenant_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.proxy]


def _factories() -> dict[type[models.Model], list[type[factory.django.DjangoModelFactory]]]:
    import tests.factories

    found: dict = {}
    for module_info in pkgutil.iter_modules(tests.factories.__path__):
        module = importlib.import_module(f"tests.factories.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, factory.django.DjangoModelFactory)
                and value._meta.model is not None
                and value.__module__ == module.__name__
            ):
                model = value._meta.get_model_class()
                if isinstance(model, type):
                    found.setdefault(model, []).append(value)
    for model, candidates in found.items():  # "<Model>Factory" first
        candidates.sort(key=lambda f: f.__name__ != f"{model.__name__}Factory")
    return found


def _tenant_foreign_keys(model) -> list[models.ForeignKey]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and f.name != "organization" and issubclass(f.related_model, TenantModel)
    ]


def _value_for(field_: models.Field, serial: str):
    """A valid value for a required field that has no default."""
    if field_.choices:
        return field_.choices[0][0]
    validators_min = [v.limit_value for v in field_.validators if type(v).__name__ == "MinValueValidator"]
    if isinstance(field_, models.EmailField):
        return f"isolation{serial}@example.com"
    if isinstance(field_, models.URLField):
        return f"https://example.com/isolation/{serial}"
    if isinstance(field_, models.SlugField):
        return f"isolation-{serial}"
    if isinstance(field_, (models.CharField, models.TextField)):
        return f"isolation {serial}"[: field_.max_length or 100]
    if isinstance(field_, models.BooleanField):
        return False
    if isinstance(field_, (models.IntegerField, models.FloatField)):
        return validators_min[0] if validators_min else 1
    if isinstance(field_, models.DecimalField):
        return decimal.Decimal(validators_min[0] if validators_min else 1)
    if isinstance(field_, models.DateTimeField):
        return timezone.now()
    if isinstance(field_, models.DateField):
        return timezone.localdate()
    if isinstance(field_, models.DurationField):
        return datetime.timedelta(hours=1)
    if isinstance(field_, models.UUIDField):
        return uuid.uuid4()
    if isinstance(field_, models.JSONField):
        return {}
    raise ValueError(f"no generic value for {field_.__class__.__name__} {field_.name}")


@dataclass
class World:
    """One row of each tenant model of one organization."""

    organization: Organization
    rows: dict[type[models.Model], models.Model] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    user: User | None = None

    def __getitem__(self, model):
        return self.rows[model]

    def get(self, model):
        return self.rows.get(model)

    def pk(self, model):
        row = self.rows.get(model)
        return None if row is None else row.pk


class WorldBuilder:
    def __init__(self, organization: Organization, *, label: str):
        self.world = World(organization=organization)
        self.label = label
        self.factories = _factories()
        self.serial = 0
        self._building: set = set()

    def build(self) -> World:
        self.world.user = User.objects.create_user(email=f"member-{self.label}@isolation.test", name=self.label)
        Membership.objects.create(
            organization=self.world.organization, user=self.world.user, role=Membership.Role.OWNER
        )
        self.world.rows[Membership] = Membership.objects.for_organization(self.world.organization).get(
            user=self.world.user
        )
        for model in tenant_models():
            self.row(model)
        return self.world

    def row(self, model):
        if model in self.world.rows:
            return self.world.rows[model]
        if model._meta.label in self.world.problems or model in self._building:
            return None
        self._building.add(model)
        try:
            instance = self._create(model)
        except Exception as error:  # reported by the matrix, naming the model
            self.world.problems[model._meta.label] = f"{type(error).__name__}: {error}"
            instance = None
        finally:
            self._building.discard(model)
        if instance is not None:
            self.world.rows[model] = instance
        return instance

    def _parents(self, model, *, required_only: bool, declared: set[str]) -> dict:
        kwargs = {}
        for fk in _tenant_foreign_keys(model):
            if required_only and fk.null and fk.name not in declared:
                continue
            parent = self.row(fk.related_model)
            if parent is None:
                if fk.null:
                    continue
                raise ValueError(f"no {fk.related_model._meta.label} to point {fk.name} at")
            kwargs[fk.name] = parent
        return kwargs

    def _create(self, model):
        self.serial += 1
        existing = model._base_manager.filter(organization=self.world.organization).order_by("pk").first()
        if existing is not None:  # made as a side effect (the audit trail, per-organization settings)
            return existing
        errors = []
        for factory_class in self.factories.get(model, []):
            declarations = factory_class._meta.pre_declarations.as_dict()
            declared = {
                name
                for name, declaration in declarations.items()
                if isinstance(declaration, (factory.SubFactory, factory.SelfAttribute, factory.LazyAttribute))
            }
            try:
                kwargs = self._parents(model, required_only=True, declared=declared)
                with transaction.atomic():
                    return factory_class(organization=self.world.organization, **kwargs)
            except Exception as error:
                errors.append(f"{factory_class.__name__}: {type(error).__name__}: {error}")
        # Generic: the required parents, then each optional parent in turn (models
        # often require exactly one of several, e.g. an enrollment or a mentor).
        optional = [fk.name for fk in _tenant_foreign_keys(model) if fk.null]
        for extra in [None, *optional]:
            try:
                return self._create_generically(model, extra_parent=extra)
            except Exception as error:
                errors.append(f"generic{'+' + extra if extra else ''}: {type(error).__name__}: {error}")
        raise ValueError("; ".join(errors))

    def _create_generically(self, model, *, extra_parent: str | None = None):
        values = {"organization": self.world.organization}
        values.update(self._parents(model, required_only=True, declared={extra_parent} if extra_parent else set()))
        for f in model._meta.concrete_fields:
            if f.primary_key or f.name in values or f.auto_created:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                continue
            if f.is_relation:
                if f.related_model is User or issubclass(f.related_model, User):
                    if not f.null:
                        values[f.name] = self.world.user
                    continue
                if not f.null:
                    raise ValueError(f"cannot fill {f.name} ({f.related_model._meta.label})")
                continue
            if f.has_default() or f.null or (f.blank and isinstance(f, (models.CharField, models.TextField))):
                continue
            values[f.name] = _value_for(f, f"{self.label}{self.serial}")
        with transaction.atomic():
            return model.objects.create(**values)


def build_world(organization: Organization, *, label: str) -> World:
    return WorldBuilder(organization, label=label).build()


def fingerprint(organization: Organization) -> dict[str, list]:
    """Everything of an organization that a request could change: every value of every row."""
    result = {}
    for model in tenant_models():
        rows = model._base_manager.filter(organization=organization).order_by("pk")
        result[model._meta.label] = [repr(sorted(row.items())) for row in rows.values()]
    return result


def cross_organization_references() -> list[str]:
    """Rows whose tenant foreign key points into another organization (must be none)."""
    found = []
    for model in tenant_models():
        for fk in _tenant_foreign_keys(model):
            leaks = model._base_manager.exclude(**{f"{fk.name}__isnull": True}).exclude(
                organization_id=models.F(f"{fk.name}__organization_id")
            )
            for pk in leaks.values_list("pk", flat=True)[:5]:
                found.append(f"{model._meta.label}#{pk}.{fk.name}")
    return found
