"""An index for the assessments changelist: the organization's rows, latest submitted first.

The admin orders by ``-submitted_at, -id`` within one organization; without this index
PostgreSQL joined every assessment of the organization (60,000 at the benchmark's size) to its
window, run, level, subject and assessor and sorted them all for each page of 100 (about 0.6 s).
With it, the page is read in index order and the joins stop after 100 rows.

Written as SQL with no change to the migration state (the models are not edited here, so a later
``makemigrations`` does not propose to drop it); declaring it in ``Assessment.Meta.indexes`` later
needs a state-only migration with the same name.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0004_valuesurvey_milestone"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS assessment_org_submitted "
                "ON assessments_assessment (organization_id, submitted_at DESC, id DESC)"
            ),
            reverse_sql="DROP INDEX IF EXISTS assessment_org_submitted",
        ),
    ]
