import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from assessments.default_framework import DEFAULT_FRAMEWORK_KEY
from assessments.models import Framework, Indicator, Level
from assessments.services import framework_create_default
from core.services import organization_create


@pytest.mark.django_db
def test_a_new_organization_gets_the_default_framework_in_korean_and_english():
    organization = organization_create(name="새싹 아카데미", slug="saessak")

    framework = Framework.objects.for_organization(organization).get(key=DEFAULT_FRAMEWORK_KEY)
    levels = list(framework.levels.order_by("number"))
    assert framework.is_default
    assert [level.number for level in levels] == [0, 1, 2, 3, 4, 5]
    assert [level.name_en for level in levels] == [
        "Indifference",
        "Aware of needs",
        "Consideration",
        "Collaboration",
        "Advocacy",
        "Innovator",
    ]
    for level in levels:
        assert level.name_ko and level.description_ko and level.description_en
        indicators = list(level.indicators.all())
        assert len(indicators) == 3
        assert all(i.text_ko and i.text_en for i in indicators)


def test_texts_follow_the_active_language(framework):
    level = framework.levels.get(number=3)
    with translation.override("ko"):
        assert level.name == "고객과 협업"
        assert framework.name == "고객 집착 레벨"
    with translation.override("en"):
        assert level.name == "Collaboration"
        assert str(level) == "LV.3 Collaboration"


def test_a_missing_translation_falls_back_to_the_other_language(framework):
    level = framework.levels.get(number=0)
    level.name_en = ""
    with translation.override("en"):
        assert level.name == "고객 무관심"


def test_creating_the_default_twice_creates_nothing_new_and_keeps_edits(organization, framework):
    framework.name_en = "Our customer levels"
    framework.save()
    again = framework_create_default(organization=organization)
    assert again.pk == framework.pk
    assert again.name_en == "Our customer levels"
    assert Level.objects.for_organization(organization).count() == 6
    assert Indicator.objects.for_organization(organization).count() == 18


def test_each_organization_has_its_own_default(framework, other_framework):
    assert framework.pk != other_framework.pk
    assert Level.objects.for_organization(framework.organization).filter(framework=other_framework).count() == 0


def test_a_level_number_is_unique_within_a_framework(framework):
    duplicate = Level(organization=framework.organization, framework=framework, number=2, name_en="Again")
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "already has a level with this number" in str(error.value)


def test_a_framework_needs_a_name_in_one_language(organization):
    with pytest.raises(ValidationError) as error:
        Framework(organization=organization, key="nameless").full_clean()
    assert "name_en" in error.value.message_dict
