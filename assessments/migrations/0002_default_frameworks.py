"""Give organizations that existed before this app the default framework.

New organizations get it from the ``organization_created`` signal.
"""

from django.db import migrations


def create_default_frameworks(apps, schema_editor):
    from assessments.default_framework import DEFAULT_FRAMEWORK, DEFAULT_LEVELS

    Organization = apps.get_model("core", "Organization")
    Framework = apps.get_model("assessments", "Framework")
    Level = apps.get_model("assessments", "Level")
    Indicator = apps.get_model("assessments", "Indicator")
    for organization in Organization.objects.all():
        if Framework.objects.filter(organization=organization, key=DEFAULT_FRAMEWORK["key"]).exists():
            continue
        framework = Framework.objects.create(organization=organization, is_default=True, **DEFAULT_FRAMEWORK)
        for number, name_ko, name_en, description_ko, description_en, indicators in DEFAULT_LEVELS:
            level = Level.objects.create(
                organization=organization,
                framework=framework,
                number=number,
                name_ko=name_ko,
                name_en=name_en,
                description_ko=description_ko,
                description_en=description_en,
            )
            for position, (text_ko, text_en) in enumerate(indicators, start=1):
                Indicator.objects.create(
                    organization=organization, level=level, position=position, text_ko=text_ko, text_en=text_en
                )


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial"), ("core", "0001_initial")]

    operations = [migrations.RunPython(create_default_frameworks, migrations.RunPython.noop)]
