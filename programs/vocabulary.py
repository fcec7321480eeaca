"""The shared vocabulary of matching: areas, industries, stages and languages.

Mentor profiles (``mentors.Mentor``), development goals and a participant's needs per run
(``programs.Enrollment``) pick from the same lists, so that overlaps can be computed and
shown in either language. Fixed choices rather than a table per organization: the labels
are translated like any other text, and free words stay where people need them
(``Mentor.expertise``, ``Enrollment.mentor_wish``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.TextChoices):
    CUSTOMER_DISCOVERY = "customer_discovery", _("Customer discovery and interviews")
    PRODUCT = "product", _("Product and MVP")
    PRICING = "pricing", _("Pricing")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing and growth")
    FUNDRAISING = "fundraising", _("Fundraising and investors")
    FINANCE = "finance", _("Finance and unit economics")
    TEAM = "team", _("Team and hiring")
    LEGAL = "legal", _("Legal and IP")
    TECHNOLOGY = "technology", _("Technology and engineering")
    DESIGN = "design", _("Design and UX")
    OPERATIONS = "operations", _("Operations")
    GLOBAL = "global", _("Going abroad")
    PITCHING = "pitching", _("Pitching and storytelling")


class Industry(models.TextChoices):
    B2B_SAAS = "b2b_saas", _("B2B SaaS")
    CONSUMER = "consumer", _("Consumer apps")
    COMMERCE = "commerce", _("Commerce and retail")
    FINTECH = "fintech", _("Fintech")
    HEALTH = "health", _("Health and bio")
    EDUCATION = "education", _("Education")
    MOBILITY = "mobility", _("Mobility and logistics")
    CLIMATE = "climate", _("Climate and energy")
    HARDWARE = "hardware", _("Hardware and manufacturing")
    FOOD = "food", _("Food and agriculture")
    MEDIA = "media", _("Content and media")
    SOCIAL = "social", _("Social impact")
    AI = "ai", _("AI and data")


class Stage(models.TextChoices):
    IDEA = "idea", _("Idea")
    VALIDATION = "validation", _("Validating the problem")
    MVP = "mvp", _("Building the first product")
    EARLY_REVENUE = "early_revenue", _("First customers and revenue")
    GROWTH = "growth", _("Growth and scale")


class Language(models.TextChoices):
    KO = "ko", _("Korean")
    EN = "en", _("English")
    JA = "ja", _("Japanese")
    ZH = "zh", _("Chinese")
    VI = "vi", _("Vietnamese")
    ES = "es", _("Spanish")
    FR = "fr", _("French")
    DE = "de", _("German")


def label_of(choices: type[models.TextChoices], code: str) -> str:
    """The label of a code in the active language (an unknown code reads as itself)."""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def clean_codes(value, choices: type[models.TextChoices], field: str) -> list[str]:
    """A list of known codes, in the vocabulary's order, without repeats; else a field error."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValidationError({field: _("Choose from the list.")})
    unknown = [item for item in value if item not in choices.values]
    if unknown:
        raise ValidationError({field: _("Not in the list: %(codes)s.") % {"codes": ", ".join(sorted(set(unknown)))}})
    return [code for code in choices.values if code in value]
