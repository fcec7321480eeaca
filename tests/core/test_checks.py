from django.apps import apps
from django.core import checks

from core.models import TenantModel


def test_system_checks_pass():
    assert [e for e in checks.run_checks() if e.level >= checks.ERROR] == []


def test_every_tenant_table_carries_organization_and_scoped_unique_constraints():
    tenant_models = [m for m in apps.get_models() if issubclass(m, TenantModel)]
    assert len(tenant_models) > 5
    for model in tenant_models:
        model._meta.get_field("organization")
        for constraint in model._meta.constraints:
            if hasattr(constraint, "fields") and constraint.fields:
                assert "organization" in constraint.fields, (model, constraint.name)
        for field in model._meta.many_to_many:
            assert issubclass(field.remote_field.through, TenantModel), (model, field.name)
