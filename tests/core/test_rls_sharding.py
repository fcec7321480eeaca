"""Ready to shard: organization_id everywhere it must be, in the models and in the real database."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from core import rls
from core.models import TenantModel


def tenant_models():
    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


def test_every_tenant_model_and_join_table_carries_organization_id():
    for model in tenant_models():
        assert model._meta.get_field("organization").column == "organization_id", model
        for field in model._meta.local_many_to_many:
            assert issubclass(field.remote_field.through, TenantModel), f"{model._meta.label}.{field.name}"


def test_no_tenant_model_is_unique_across_organizations():
    for model in tenant_models():
        label = model._meta.label
        for field in model._meta.local_fields:
            assert not isinstance(field, models.OneToOneField), f"{label}.{field.name}: use FK + UniqueConstraint"
            assert field.primary_key or not field.unique, f"{label}.{field.name} is unique=True"
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                columns = list(constraint.fields) + [str(e) for e in constraint.expressions]
                assert "organization" in constraint.fields, f"{label}: {constraint.name} {columns}"
        for together in model._meta.unique_together:
            assert "organization" in together, f"{label}: unique_together {together}"


@pytest.mark.postgres
def test_every_unique_index_of_a_tenant_table_includes_organization_id(postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname
            FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = current_schema() AND x.indisunique AND NOT x.indisprimary
              AND EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = t.oid AND a.attname = 'organization_id' AND NOT a.attisdropped)
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = t.oid AND a.attname = 'organization_id'
                                AND a.attnum = ANY(x.indkey))
            ORDER BY 1, 2
            """
        )
        assert cursor.fetchall() == []


@pytest.mark.postgres
def test_every_table_that_references_a_tenant_table_is_a_tenant_table(postgres):
    tenant_tables = {state.table for state in rls.tenant_tables(connection)}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT src.relname, dst.relname
            FROM pg_constraint c
            JOIN pg_class src ON src.oid = c.conrelid
            JOIN pg_class dst ON dst.oid = c.confrelid
            JOIN pg_namespace n ON n.oid = src.relnamespace
            WHERE c.contype = 'f' AND n.nspname = current_schema()
            """
        )
        references = cursor.fetchall()
    outside = sorted((src, dst) for src, dst in references if dst in tenant_tables and src not in tenant_tables)
    assert outside == [], "tables that join tenant rows without carrying organization_id (cannot be colocated)"
