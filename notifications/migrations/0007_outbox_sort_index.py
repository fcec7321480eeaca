"""An index for the outbox as the admin lists it: the organization's rows, newest scheduled first.

The changelist orders by ``-scheduled_for, -id`` (``Notification.Meta.ordering``) within one
organization; without this index PostgreSQL read and sorted every row of the organization for
each page (100,000 rows: a sequential scan and a top-N sort of about 0.5 s). With it, a page is
an index scan that stops after 100 rows, and the date range (MIN/MAX) is two index probes.

Written as SQL with no change to the migration state: the models are not edited here, so a later
``makemigrations`` does not propose to drop it. Declaring it in ``Notification.Meta.indexes``
later needs a state-only migration (``SeparateDatabaseAndState``) with the same name.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0006_channels"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS notification_org_scheduled "
                "ON notifications_notification (organization_id, scheduled_for DESC, id DESC)"
            ),
            reverse_sql="DROP INDEX IF EXISTS notification_org_scheduled",
        ),
    ]
