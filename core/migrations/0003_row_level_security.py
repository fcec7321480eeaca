"""Row-level security on every table with organization_id (PostgreSQL; nothing on SQLite).

This migration protects the tables that exist when it runs. Tables that other apps
create later are protected by core.rls.on_post_migrate, which runs at the end of
every `migrate`: a new tenant model cannot escape the policy.
"""

from django.db import migrations


def apply(apps, schema_editor):
    from core import rls

    rls.apply_policies(schema_editor.connection)


def remove(apps, schema_editor):
    from core import rls

    rls.remove_policies(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_audit_event"),
    ]

    operations = [
        migrations.RunPython(apply, remove, elidable=False),
    ]
