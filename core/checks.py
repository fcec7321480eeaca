"""System checks that keep every tenant model shard-ready and scoped."""

from django.apps import apps
from django.core import checks
from django.db import models

from core.models import TenantModel
from core.tenancy import TenantManager


@checks.register(checks.Tags.models)
def check_tenant_models(app_configs=None, **kwargs):
    errors = []
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        label = model._meta.label
        if not isinstance(model._default_manager, TenantManager):
            errors.append(checks.Error(f"{label}: default manager must be a TenantManager", id="core.E001", obj=model))
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                errors.append(
                    checks.Error(
                        f"{label}.{field.name} is unique across organizations; use a UniqueConstraint "
                        "that includes 'organization'",
                        id="core.E002",
                        obj=model,
                    )
                )
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and "organization" not in constraint.fields:
                errors.append(
                    checks.Error(
                        f"{label}: unique constraint {constraint.name} must include 'organization'",
                        id="core.E003",
                        obj=model,
                    )
                )
        for together in model._meta.unique_together:
            if "organization" not in together:
                errors.append(
                    checks.Error(f"{label}: unique_together {together} must include 'organization'", id="core.E003")
                )
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if not issubclass(through, TenantModel):
                errors.append(
                    checks.Error(
                        f"{label}.{field.name}: many-to-many tables must use a TenantModel 'through' model "
                        "so that they carry organization_id",
                        id="core.E004",
                        obj=model,
                    )
                )
    return errors
